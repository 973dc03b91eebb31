"""Built files served from memory: the browser agent (rum.js, rum.attribution.js) with ETag
and long caching, and the dashboard's files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "js-beacon" / "dist"
SCRIPTS = ("rum.js", "rum.attribution.js")


@dataclass(frozen=True)
class Script:
    """A built script held in memory with its validator."""

    body: bytes
    etag: str


def load_built(folder: Path, names: Iterable[str]) -> dict[str, Script]:
    """Read whichever of `names` a build left in `folder`, each with its ETag."""
    found = {}
    for name in names:
        path = folder / name
        if path.is_file():
            body = path.read_bytes()
            found[name] = Script(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return found


def load_scripts(folder: Path | None) -> dict[str, Script]:
    """Read whichever agent builds exist in `folder` (default js-beacon/dist)."""
    return load_built(folder or DEFAULT_DIR, SCRIPTS)
