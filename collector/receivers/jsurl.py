"""JSURL (github.com/Sage/jsurl), as Boomerang writes it (plugins/compression.js `jsUrl`):
JSON in URL-safe characters. `~(a~1~b~'x)` is {"a": 1, "b": "x"}, `~(~1~2)` is [1, 2],
`~'` starts a string, `~true`/`~false`/`~null`, `~` + digits a number; in strings and
keys `*XX` is the character of hex code XX, `**XXXX` of a 4-hex code, `!` is `$`.

A bounded decoder: depth, items and length are capped, and anything else is a JsurlError.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 8
MAX_ITEMS = 1000
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# a string or key runs until the next `~` or `)`
_TEXT_END = re.compile(r"[~)]")


class JsurlError(ValueError):
    """The text is not JSURL (or breaks a cap)."""


def loads(text: str) -> Any:
    """The value a JSURL text holds."""
    parser = _Parser(text)
    value = parser.value(0)
    if parser.pos != len(text):
        raise JsurlError(f"unexpected {text[parser.pos:parser.pos + 10]!r} at {parser.pos}")
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.items = 0

    def value(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        if not text.startswith("~", pos):
            raise JsurlError(f"expected '~' at {pos}")
        self.pos = pos + 1
        self.items += 1
        if self.items > MAX_ITEMS:
            raise JsurlError(f"more than {MAX_ITEMS} values")
        head = text[self.pos:self.pos + 1]
        if head == "(":
            if depth >= MAX_DEPTH:
                raise JsurlError(f"nested deeper than {MAX_DEPTH}")
            self.pos += 1
            return self.container(depth + 1)
        if head == "'":
            self.pos += 1
            return self.string()
        for word, result in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, self.pos):
                self.pos += len(word)
                return result
        number = _NUMBER.match(text, self.pos)
        if number is None:
            raise JsurlError(f"bad value at {self.pos}")
        self.pos = number.end()
        return float(number.group()) if any(c in number.group() for c in ".eE") else int(number.group())

    def container(self, depth: int) -> Any:
        """After `~(`: an array when the next character is `~`, else an object."""
        text = self.text
        if text.startswith("~)", self.pos):  # the empty array
            self.pos += 2
            return []
        if text.startswith(")", self.pos):  # the empty object
            self.pos += 1
            return {}
        if text.startswith("~", self.pos):
            items = []
            while not text.startswith(")", self.pos):
                items.append(self.value(depth))
            self.pos += 1
            return items
        obj: dict[str, Any] = {}
        while True:
            key = self.string()
            obj[key] = self.value(depth)
            if text.startswith(")", self.pos):
                self.pos += 1
                return obj
            if not text.startswith("~", self.pos):
                raise JsurlError(f"expected '~' or ')' at {self.pos}")
            self.pos += 1

    def string(self) -> str:
        text = self.text
        end = _TEXT_END.search(text, self.pos)
        stop = end.start() if end else len(text)
        raw = text[self.pos:stop]
        self.pos = stop
        if "*" not in raw and "!" not in raw:
            return raw
        if "*" in _ESCAPE.sub("", raw):  # a '*' that starts no valid escape
            raise JsurlError(f"bad escape in {raw[:20]!r}")
        return _ESCAPE.sub(_unescape, raw)


# `**XXXX` (4 hex), `*XX` (2 hex), `!` ($)
_ESCAPE = re.compile(r"\*\*([0-9a-fA-F]{4})|\*([0-9a-fA-F]{2})|!")


def _unescape(found: re.Match[str]) -> str:
    code = found.group(1) or found.group(2)
    return chr(int(code, 16)) if code else "$"
