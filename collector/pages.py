"""URL scrubbing and page grouping: keep the path, drop query and fragment, group ids into routes."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from collector.privacy import is_secret_key, may_hold_card, scrub_cards

MAX_PATH = 512
_ID_SEGMENT = re.compile(
    r"""^(
        \d+                                   # numeric id
      | [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}   # uuid
      | [0-9a-f]{16,}                         # hashes
      | (?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,} # long tokens with digits
      | [^/@]+@[^/@]+                          # e-mail addresses
    )$""",
    re.X | re.I,
)


@lru_cache(maxsize=65536)
def page_path(url: str) -> str:
    """Path of a URL without query string and fragment ('/' when there is none)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return "/"
    return (path or "/")[:MAX_PATH]


@lru_cache(maxsize=65536)
def page_group(path: str) -> str:
    """Route of a path: id-like segments become ':id' so /order/1 and /order/2 are one group."""
    segments = scrub_path(path).split("/")
    return "/".join(":id" if _ID_SEGMENT.fullmatch(s) else s for s in segments) or "/"


@lru_cache(maxsize=65536)
def scrub_path(path: str) -> str:
    """A path with personal segments replaced; ordinary ids kept (docs/privacy.md).

    E-mail segments (plain or %40) become ':email', Luhn-valid card numbers ':card',
    and the value of a secret-named `key=value` segment or `;key=value` path parameter
    (`;jsessionid=...`, `/reset/token=...`) ':secret'.
    """
    if not (_PATH_MARKS.search(path) or may_hold_card(path)):
        return path
    return "/".join(_scrub_segment(s) for s in path.split("/"))


_PATH_MARKS = re.compile(r"[@%;=]")


def _scrub_segment(segment: str) -> str:
    # secrets are looked for in the decoded text; a segment with none keeps its encoding
    decoded = unquote(segment) if "%" in segment else segment
    if "@" in decoded:
        return ":email"
    scrubbed = decoded
    if "=" in scrubbed:
        scrubbed = ";".join(_scrub_param(p) for p in scrubbed.split(";"))
    scrubbed = scrub_cards(scrubbed, ":card")
    return segment if scrubbed == decoded else scrubbed


def _scrub_param(param: str) -> str:
    key, eq, _ = param.partition("=")
    return key + "=:secret" if eq and is_secret_key(key) else param


def scrubbed_path(url: str) -> str:
    """The stored form of any URL: its path without query and fragment, scrubbed."""
    return scrub_path(page_path(url))


@lru_cache(maxsize=16384)
def url_host(url: str) -> str:
    """Host of a URL ('' when it has none): all a referrer is reduced to."""
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""
