"""Hourly rollups of rum.events: what they hold, how they are kept, how questions read them.

docs/analytics.md ("Rollups") explains the design in one page. The layout:

- `grid.py`: the histogram grid every rolled or raw histogram uses (one place);
- `tables.py`: the rollups (`Rollup`: a table and its four statements, six with day
  rows) and their grain;
- `sql/*.sql`: each rollup's statements, loaded by name (`load_sql`), never formatted;
  their parameters are bound (`{name:Type}`), the grid's too;
- `scheduler.py`: the `Roller` that keeps the rollups in step with rum.events, off the
  intake path (the writer side starts it);
- `coverage.py`: the read side: what of a window the rollup answers (`coverage`), for
  queries/ to plan with.

Nothing here imports queries/, and the writer side (pipeline/, collector/) only starts
the scheduler.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_sql(name: str) -> str:
    """The text of rollups/sql/<name>.sql."""
    return resources.files("rollups").joinpath("sql", f"{name}.sql").read_text()


def config_id(*made_with: Any) -> int:
    """A rollup's `config`: a 64-bit id of what its rolls are made with (a roll made with
    another is rolled again and not read)."""
    return int.from_bytes(hashlib.blake2b(repr(made_with).encode(), digest_size=8).digest(), "big")
