"""The client's IP: the socket peer, or X-Forwarded-For only when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Decides which hops of X-Forwarded-For are believed."""

    def __init__(self, cidrs: Iterable[str]) -> None:
        self._networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(c, strict=False) for c in cidrs
        )
        self.is_trusted = lru_cache(maxsize=4096)(self._is_trusted)

    def _is_trusted(self, ip: str) -> bool:
        if not self._networks:
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self._networks)

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """Walk XFF right to left from a trusted peer; the first untrusted hop is the client."""
        if peer is None:
            return None
        if not forwarded_for or not self.is_trusted(peer):
            return peer
        hops = [_hop_ip(h) for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if hop is None:  # "unknown", garbage: nothing believable beyond it
                return peer
            if not self.is_trusted(hop):
                return hop
        return hops[0] if hops and hops[0] is not None else peer


def _hop_ip(hop: str) -> str | None:
    """The address in one XFF hop: `ip`, `ip:port`, `[v6]` or `[v6]:port`; None otherwise."""
    hop = hop.strip()
    if hop.startswith("["):
        host, sep, rest = hop[1:].partition("]")
        if not sep or (rest and not (rest[0] == ":" and rest[1:].isdigit())):
            return None
        hop = host
    elif hop.count(":") == 1:  # IPv4 with a port; a bare IPv6 has several colons
        host, _, port = hop.partition(":")
        if not port.isdigit():
            return None
        hop = host
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None
