"""Webhook HTTP that cannot be pointed at internal services (SSRF).

The host is resolved once; every address it resolves to must be public
(not loopback, private, link-local incl. 169.254.169.254, multicast, reserved)
unless private targets are allowed by a setting; the request then connects to
the checked address itself (Host header and TLS SNI keep the name), so a second
DNS answer cannot swap in an internal address. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx


class UnsafeTarget(ValueError):
    """The webhook URL points somewhere it must not (or cannot be resolved)."""


@dataclass(frozen=True)
class Target:
    """A checked destination: the URL to connect to and the name to present."""

    url: str
    host_header: str
    sni_hostname: str | None


# transition and legacy ranges a webhook never needs: 6to4 and Teredo relay to an embedded
# IPv4 (possibly private), site-local is the deprecated private fec0::/10, and local-use
# NAT64 translates to whatever the operator's gateway maps
_REFUSED_V6 = tuple(ipaddress.IPv6Network(n) for n in (
    "2002::/16", "2001::/32", "fec0::/10", "64:ff9b:1::/48"))
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv6 embedding an IPv4: by that IPv4)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _is_global(ip.ipv4_mapped)
        if ip in _NAT64:
            return _is_global(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.is_site_local or any(ip in net for net in _REFUSED_V6):
            return False
    return _is_global(ip)


def _is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


async def resolve_target(url: str, allow_private: bool) -> Target:
    """Resolve and check `url`'s host once; return where to connect."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(f"not an http(s) URL: {url}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc}") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise UnsafeTarget(f"{host} has no address")
    if not allow_private:
        blocked = [a for a in addresses if not is_public(a)]
        if blocked:
            raise UnsafeTarget(f"{host} resolves to a non-public address ({blocked[0]}); "
                               "set RUM_ALERT_ALLOW_PRIVATE_WEBHOOKS to allow it")
    address = addresses[0]
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return Target(pinned, host_header, host if parts.scheme == "https" else None)


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str],
               timeout: float, allow_private: bool) -> httpx.Response:
    """POST `body` to a checked, pinned target; redirects are not followed."""
    target = await resolve_target(url, allow_private)
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    request = client.build_request(
        "POST", target.url, content=body, timeout=timeout, extensions=extensions,
        headers={**headers, "Host": target.host_header})
    return await client.send(request, follow_redirects=False)
