"""Serving the built browser agent (rum.js, rum.attribution.js) with ETag and long caching."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "js-beacon" / "dist"
SCRIPTS = ("rum.js", "rum.attribution.js")


@dataclass(frozen=True)
class Script:
    """A built script held in memory with its validator."""

    body: bytes
    etag: str


def load_scripts(folder: Path | None) -> dict[str, Script]:
    """Read whichever builds exist in `folder` (default js-beacon/dist)."""
    base = folder or DEFAULT_DIR
    found = {}
    for name in SCRIPTS:
        path = base / name
        if path.is_file():
            body = path.read_bytes()
            found[name] = Script(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return found
