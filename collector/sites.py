"""The optional site registry: known site keys, their allowed origins, sample rate, options.

Without a registry (the embedded default) any site key is accepted.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SITE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class SiteRegistryError(ValueError):
    """The registry file is unreadable or wrong; the message names the site and field."""


@dataclass(frozen=True)
class Site:
    """One registered site."""

    key: str
    origins: frozenset[str]
    sample_rate: float = 1.0
    honor_gpc: bool = False
    rate_limit: float | None = None
    # keys an agent may send instead of the site key (Faro's X-Api-Key, Boomerang's h.key)
    api_keys: frozenset[str] = frozenset()

    def allows_origin(self, origin: str | None) -> bool:
        """Browser requests must come from a listed origin; non-browser ones carry none."""
        return origin is None or "*" in self.origins or origin in self.origins


class SiteRegistry:
    """All registered sites, by key."""

    def __init__(self, sites: dict[str, Site]) -> None:
        self.sites = sites
        self.all_origins = frozenset(o for s in sites.values() for o in s.origins)
        self.api_keys = {k: s for s in sites.values() for k in s.api_keys}

    def get(self, key: str) -> Site | None:
        """The site for a key, or None when unknown."""
        return self.sites.get(key)

    def by_api_key(self, key: str) -> Site | None:
        """The site an agent's API key stands for, or None when unknown."""
        return self.api_keys.get(key)

    @classmethod
    def load(cls, path: Path) -> SiteRegistry:
        """Read a TOML file of `[sites.KEY]` tables."""
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SiteRegistryError(f"{path}: {exc}") from exc
        raw_sites = data.get("sites")
        if not isinstance(raw_sites, dict) or not raw_sites:
            raise SiteRegistryError(f"{path}: needs at least one [sites.KEY] table")
        sites = {key: _site(key, value) for key, value in raw_sites.items()}
        seen: dict[str, str] = {}
        for site in sites.values():
            for api_key in site.api_keys:
                if api_key in seen:
                    raise SiteRegistryError(f"sites.{site.key}.api_keys: {api_key!r} is also "
                                            f"sites.{seen[api_key]}'s")
                seen[api_key] = site.key
        return cls(sites)


def _site(key: str, value: Any) -> Site:
    where = f"sites.{key}"
    if not _SITE.fullmatch(key):
        raise SiteRegistryError(f"{where}: key must be 1-64 characters of A-Z a-z 0-9 _ . -")
    if not isinstance(value, dict):
        raise SiteRegistryError(f"{where}: must be a table")
    unknown = set(value) - {"origins", "sample_rate", "honor_gpc", "rate_limit", "api_keys"}
    if unknown:
        raise SiteRegistryError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    origins = value.get("origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins) or not origins:
        raise SiteRegistryError(f"{where}.origins: must be a non-empty list of origins")
    rate = value.get("sample_rate", 1.0)
    if not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise SiteRegistryError(f"{where}.sample_rate: must be in (0, 1]")
    gpc = value.get("honor_gpc", False)
    if not isinstance(gpc, bool):
        raise SiteRegistryError(f"{where}.honor_gpc: must be true or false")
    limit = value.get("rate_limit")
    if limit is not None and (not isinstance(limit, (int, float)) or limit < 0):
        raise SiteRegistryError(f"{where}.rate_limit: must be a number >= 0")
    keys = value.get("api_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise SiteRegistryError(f"{where}.api_keys: must be a list of non-empty strings")
    return Site(key, frozenset(o.rstrip("/") for o in origins), float(rate), gpc,
                None if limit is None else float(limit), frozenset(keys))
