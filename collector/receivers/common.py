"""What the agents' receivers share: bounded timings, ids the protocol accepts, notes of
what was left out, and the v1 envelope built from a translated document."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from collector.drops import Dropped, DropReason, EventDropReason
from collector.intake import BeaconIntake
from collector.protocol import (
    IDENT_PATTERN,
    MAX_LINE,
    MAX_TIMING_MS,
    Envelope,
    InvalidEnvelope,
    validate_envelope,
)
from collector.sites import SiteRegistry

_IDENT = re.compile(IDENT_PATTERN)
# more frames than this add nothing a person reads (the stack is cut at 4 KB anyway)
MAX_FRAMES = 50


@dataclass(slots=True)
class Notes:
    """What a translation left out, counted as rum_events_dropped_total{reason}."""

    dropped: list[EventDropReason] = field(default_factory=list)

    def timing(self, value: Any, limit: float = MAX_TIMING_MS) -> float | None:
        """A duration in ms within [0, limit], or None (an absurd one is noted)."""
        number = as_number(value)
        if number is None:
            return None
        if not 0.0 <= number <= limit:
            self.dropped.append(EventDropReason.OUT_OF_RANGE)
            return None
        return number


def as_number(value: Any) -> float | None:
    """A finite number from a JSON number or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and 0 < len(value) <= 32:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def ident(value: str | None) -> str:
    """An agent's id as the protocol's Ident: kept when it fits, else a stable digest of it."""
    if not value:
        return ""
    if _IDENT.match(value):
        return value
    return hashlib.md5(value.encode("utf-8", "replace")).hexdigest()[:32]


def source_line(value: Any) -> int | None:
    """A line or column number the protocol takes (0-10,000,000), or None."""
    number = as_number(value)
    return int(number) if number is not None and 0 <= number <= MAX_LINE else None


def frame_line(function: str, file: str, line: Any, col: Any) -> str:
    """One line of a stack as the browser writes it: '    at buy (https://x/app.js:10:5)'."""
    where, line_no, col_no = file, as_number(line), as_number(col)
    if line_no is not None:
        where += f":{int(line_no)}" + (f":{int(col_no)}" if col_no is not None else "")
    return f"    at {function or '?'} ({where})"


def digest(*parts: str) -> str:
    """A 16-hex id made from parts (e.g. a page view id from session and page URL)."""
    return hashlib.md5("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:16]


class ReceiverIntake(BeaconIntake):
    """An intake of another agent's format: its `parse` makes the Envelope; the registry
    maps the agent's API key to a site."""

    def __init__(self, *args: Any, registry: SiteRegistry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry

    def site_for_key(self, key: str | None) -> str | None | Dropped:
        """The site an agent's API key stands for: None when no key was sent (or there is
        no registry to map it), a Dropped when the registry does not know the key."""
        if not key or self.registry is None:
            return None
        site = self.registry.by_api_key(key)
        if site is None:
            return Dropped(DropReason.UNKNOWN_SITE, "API key is not registered")
        return site.key


def envelope(doc: dict[str, Any]) -> Envelope | Dropped:
    """The v1 Envelope of a translated document, under the protocol's own rules."""
    try:
        return validate_envelope(doc)
    except InvalidEnvelope as exc:
        return Dropped(DropReason.INVALID_ENVELOPE, str(exc))
