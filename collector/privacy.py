"""Privacy scrubbing: personal data out of URLs, messages and properties before storage.

One policy for every stored string (docs/privacy.md lists it): e-mail addresses (plain
and percent-encoded), Luhn-valid card numbers (13-19 digits, alone or in groups split
by one space, dash or dot, even glued to letters), bearer and basic credentials,
values of secret-named key=value pairs, and the query string and fragment of any URL
inside the text. Paths get the same policy segment by segment (collector/pages.py).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

SCRUBBED = "[scrubbed]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", re.I)
# 13-19 digits, optionally in groups split by one space, dash or dot; digits may touch
# letters or underscores (cc_4111...), never other digits
_CARD = re.compile(r"(?<!\d)(?:\d[ .\-]?){12,18}\d(?!\d)")
_CARD_GROUP = re.compile(r"\d+")
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|pwd|token|secret|auth|sess(ion)?id|session|(?<![a-z])sid(?![a-z])|api[_-]?key"
    r"|credential", re.I)
# key=value or key: value pairs whose key names a secret, inside free text
_SECRET_PAIR = re.compile(
    r"((?:pass(?:word|wd)?|pwd|token|secret|auth\w*|session\w*|sess\w*id|(?<![a-z])sid|"
    r"api[_-]?key|credential\w*)"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;]+)", re.I)
# HTTP credentials: a bearer token of 8+ token characters; basic only when it decodes
# to user:password (so "Basic plan" stays)
_CREDENTIAL = re.compile(r"\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)", re.I)
# the query string or fragment of a URL inside text: from "?" or "#" to the next space,
# quote or bracket, when the word before it holds a "/" (https://host/p?q, /p#f, a stack
# frame's URL). A stack frame's trailing :line:col is kept.
# from a "/" through its word (possessive: a word without "?" or "#" fails at once) to the
# query/fragment, which runs to the next space, quote or bracket
_URL_TAIL = re.compile(r"/[^\s\"'<>()\[\]?#]*+([?#][^\s\"'<>()\[\]]*)")
_LINE_COL = re.compile(r":\d+(?::\d+)?\Z")


# Every _SECRET_PAIR match starts with one of these words (compared case-folded), every
# _EMAIL match holds an "@" or "%40", every _CARD match is 13+ digits with at most one
# space, dash or dot between neighbours. Checking that first skips the regexes, which
# scan a long stack trace position by position (~110 µs for 500 characters, most of the
# intake's time per beacon), on text that cannot match; tests check the results are
# identical.
_SECRET_WORDS = ("pass", "pwd", "token", "secret", "auth", "sess", "sid", "api", "credential")
_DIGIT_RUN = re.compile(r"\d+")
_CARD_SHAPE = re.compile(r"d(?:s?d){12}")
_SHAPES = str.maketrans({**{chr(i): "x" for i in range(128)}, **dict.fromkeys("0123456789", "d"),
                         " ": "s", "-": "s", ".": "s"})


def scrub_text(text: str) -> str:
    """Free text with every secret class of the policy replaced by [scrubbed]."""
    if not text:
        return text
    if ("?" in text or "#" in text) and "/" in text:
        text = _drop_url_tails(text)
    folded = _fold(text)
    if "bearer" in folded or "basic" in folded:
        text = _CREDENTIAL.sub(_credential, text)
    if ("=" in text or ":" in text) and any(word in folded for word in _SECRET_WORDS):
        text = _SECRET_PAIR.sub(lambda m: m.group(1) + SCRUBBED, text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(SCRUBBED, text)
    if may_hold_card(text):
        text = _CARD.sub(lambda m: _scrub_cards(m, SCRUBBED), text)
    return text


def _fold(text: str) -> str:
    # re.IGNORECASE also matches dotted capital I and dotless i as "i": fold them too
    return text.casefold().replace("\u0307", "").replace("\u0131", "i")


def _drop_url_tails(text: str) -> str:
    return _URL_TAIL.sub(_drop_url_tail, text)


def _drop_url_tail(match: re.Match[str]) -> str:
    line_col = _LINE_COL.search(match.group(1))
    return match.group(0)[:match.start(1) - match.start()] + (line_col.group(0) if line_col else "")


def _credential(match: re.Match[str]) -> str:
    scheme, space, value = match.groups()
    if scheme.lower() == "basic" and not _is_basic_pair(value):
        return match.group(0)
    return scheme + space + SCRUBBED


def _is_basic_pair(value: str) -> bool:
    try:
        return b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False


def may_hold_card(text: str) -> bool:
    """True when 13 digits follow each other with at most one space, dash or dot between."""
    if text.isascii():  # one C pass: digits -> d, space/dash/dot -> s, the rest -> x
        return _CARD_SHAPE.search(text.translate(_SHAPES)) is not None
    chain, end = 0, -2
    for run in _DIGIT_RUN.finditer(text):
        joined = run.start() == end + 1 and text[end] in " -."
        chain = chain + len(run.group()) if joined else len(run.group())
        if chain >= 13:
            return True
        end = run.end()
    return False


def _scrub_cards(match: re.Match[str], replacement: str) -> str:
    """The match with its Luhn-valid card replaced: the whole run, or whole digit groups of it."""
    text = match.group(0)
    if _luhn(re.sub(r"\D", "", text)):
        return replacement
    # "ref 12 4111 1111 1111 1111": the card is a run of whole groups inside the match
    groups = [(g.start(), g.end()) for g in _CARD_GROUP.finditer(text)]
    for i in range(len(groups)):
        for j in range(len(groups) - 1, i - 1, -1):
            digits = re.sub(r"\D", "", text[groups[i][0]:groups[j][1]])
            if 13 <= len(digits) <= 19 and _luhn(digits):
                before, after = text[:groups[i][0]], text[groups[j][1]:]
                return before + replacement + (_CARD.sub(lambda m: _scrub_cards(m, replacement),
                                                         after) if after else "")
    return text


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def scrub_cards(text: str, replacement: str) -> str:
    """Luhn-valid card numbers in `text` replaced by `replacement` (paths use ':card')."""
    if not may_hold_card(text):
        return text
    return _CARD.sub(lambda m: _scrub_cards(m, replacement), text)


def looks_like_email(text: str) -> bool:
    """True when `text` holds an e-mail address, plain or percent-encoded (%40)."""
    return ("@" in text or "%40" in text) and _EMAIL.search(text) is not None


def is_secret_key(key: str) -> bool:
    """True when a property or parameter name says its value is a secret."""
    return bool(_SECRET_KEY.search(key))


def scrub_props(props: dict[str, object]) -> dict[str, object]:
    """Custom-event properties: keys scrubbed, secret-named values removed, text scrubbed."""
    out: dict[str, object] = {}
    for key, value in props.items():
        if is_secret_key(key):
            out[scrub_text(key)] = SCRUBBED
        elif isinstance(value, str):
            out[scrub_text(key)] = scrub_text(value)
        else:
            out[scrub_text(key)] = value
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
    if looks_like_email(user):
        return "h:" + hashlib.sha256(user.lower().encode()).hexdigest()[:24]
    return user
