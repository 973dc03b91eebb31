"""Privacy scrubbing: personal data out of URLs, messages and properties before storage."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

SCRUBBED = "[scrubbed]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally in groups separated by spaces or dashes (payment cards)
_CARD = re.compile(r"\b(?:\d[ \-]?){12,18}\d\b")
_SECRET_KEY = re.compile(r"pass(word|wd)?|pwd|token|secret|auth|session|api[_-]?key|credential", re.I)
# key=value or key: value pairs whose key names a secret, inside free text
_SECRET_PAIR = re.compile(
    r"((?:pass(?:word|wd)?|pwd|token|secret|auth\w*|session\w*|api[_-]?key|credential\w*)"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;]+)", re.I)


def scrub_text(text: str) -> str:
    """Replace e-mail addresses, card-like numbers and secret key=value values in free text."""
    if not text:
        return text
    text = _SECRET_PAIR.sub(lambda m: m.group(1) + SCRUBBED, text)
    text = _EMAIL.sub(SCRUBBED, text)
    return _CARD.sub(_card_or_not, text)


def _card_or_not(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return SCRUBBED if _luhn(digits) else match.group(0)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_secret_key(key: str) -> bool:
    """True when a property or parameter name says its value is a secret."""
    return bool(_SECRET_KEY.search(key))


def scrub_props(props: dict[str, object]) -> dict[str, object]:
    """Custom-event properties with secret-named values removed and text scrubbed."""
    out: dict[str, object] = {}
    for key, value in props.items():
        if is_secret_key(key):
            out[key] = SCRUBBED
        elif isinstance(value, str):
            out[key] = scrub_text(value)
        else:
            out[key] = value
    return out


class QueryAllowList:
    """Which query parameters of a page URL are kept (globs such as `utm_*`)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self.kept_query = lru_cache(maxsize=65536)(self._kept_query)

    def _kept_query(self, url: str) -> str:
        if not self.patterns or "?" not in url:
            return ""
        try:
            pairs = parse_qsl(urlsplit(url).query, keep_blank_values=False)
        except ValueError:
            return ""
        kept = [(k, scrub_text(v)[:200]) for k, v in pairs
                if not is_secret_key(k) and any(fnmatch.fnmatchcase(k, p) for p in self.patterns)]
        return urlencode(kept)[:512]


def pseudonymize_user(user: str) -> str:
    """A user id that looks like an e-mail address is replaced by a stable hash of it."""
    if "@" in user and _EMAIL.search(user):
        return "h:" + hashlib.sha256(user.lower().encode()).hexdigest()[:24]
    return user
