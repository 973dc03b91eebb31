"""URL scrubbing and page grouping: keep the path, drop query and fragment, group ids into routes."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

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
    segments = path.split("/")
    return "/".join(":id" if _ID_SEGMENT.match(s) else s for s in segments) or "/"


def scrub_path(path: str) -> str:
    """A path with id-like personal segments (e-mails) replaced; ordinary ids kept."""
    if "@" not in path:
        return path
    return "/".join(":email" if "@" in s else s for s in path.split("/"))


@lru_cache(maxsize=16384)
def url_host(url: str) -> str:
    """Host of a URL ('' when it has none): all a referrer is reduced to."""
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""
