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


# Every _SECRET_PAIR match starts with one of these words (compared case-folded), every
# _EMAIL match holds an "@", every _CARD match is 13+ digits with at most one space or
# dash between neighbours. Checking that first skips the regexes, which scan a long
# stack trace position by position (~110 µs for 500 characters, most of the intake's
# time per beacon), on text that cannot match; tests check the results are identical.
_SECRET_WORDS = ("pass", "pwd", "token", "secret", "auth", "session", "api", "credential")
_DIGIT_RUN = re.compile(r"\d+")
_CARD_SHAPE = re.compile(r"d(?:s?d){12}")
_SHAPES = str.maketrans({**{chr(i): "x" for i in range(128)}, **dict.fromkeys("0123456789", "d"),
                         " ": "s", "-": "s"})


def scrub_text(text: str) -> str:
    """Replace e-mail addresses, card-like numbers and secret key=value values in free text."""
    if not text:
        return text
    if _may_hold_secret_pair(text):
        text = _SECRET_PAIR.sub(lambda m: m.group(1) + SCRUBBED, text)
    if "@" in text:
        text = _EMAIL.sub(SCRUBBED, text)
    if _may_hold_card(text):
        text = _CARD.sub(_card_or_not, text)
    return text


def _may_hold_secret_pair(text: str) -> bool:
    if "=" not in text and ":" not in text:
        return False
    # re.IGNORECASE also matches dotted capital I and dotless i as "i": fold them too
    folded = text.casefold().replace("\u0307", "").replace("\u0131", "i")
    return any(word in folded for word in _SECRET_WORDS)


def _may_hold_card(text: str) -> bool:
    """True when 13 digits follow each other with at most one space or dash between them."""
    if text.isascii():  # one C pass: digits -> d, space/dash -> s, the rest -> x
        return _CARD_SHAPE.search(text.translate(_SHAPES)) is not None
    chain, end = 0, -2
    for run in _DIGIT_RUN.finditer(text):
        joined = run.start() == end + 1 and text[end] in " -"
        chain = chain + len(run.group()) if joined else len(run.group())
        if chain >= 13:
            return True
        end = run.end()
    return False


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
