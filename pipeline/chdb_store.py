"""Embedded store: chDB, the ClickHouse engine in-process, data under the data dir.

Rows are inserted as one Arrow record batch (columns, not JSON text): chDB parses
JSONEachRow at ~25 µs per 60-column row, an Arrow batch at a fraction of that
(bench/RESULTS.md, Intake). The Arrow batch is only sent when every value already has
its column's exact type; any other batch (an unknown key, a string in a number column,
a timestamp with more than milliseconds, a refused value...) goes as JSONEachRow as
before, so what is stored, and what is refused with which error, stays ClickHouse's
own JSON reading.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from pipeline.store import StoreError

_TABLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_.0123456789")


class ChdbStore:
    """Store on a chDB session; one per process (chDB allows one live session)."""

    def __init__(self, path: Path) -> None:
        from chdb import session

        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock_file = hold_data_lock(path)
        try:
            self._session = session.Session(str(path))  # type: ignore[no-untyped-call]
        except Exception as exc:  # chDB raises a bare RuntimeError with a C++ message
            self._lock_file.close()
            raise StoreError(f"cannot open the store in {path}: "
                             f"{str(exc).strip().splitlines()[0][:300]}") from exc
        # chDB sessions are not safe for concurrent use from several threads
        self._lock = threading.Lock()
        # table -> its columns as the Arrow path reads them (None: some column type it cannot)
        self._columns: dict[str, dict[str, ArrowColumn] | None] = {}

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows in one statement: an Arrow batch when exact, else JSONEachRow."""
        if not rows:
            return
        if not set(table) <= _TABLE_CHARS:
            raise StoreError(f"bad table name {table!r}")
        columns = self._table_columns(table)
        batch = arrow_batch(columns, rows) if columns is not None else None
        if batch is not None:
            try:
                self._send_arrow(table, batch)
                return
            except StoreError:
                # refused or failed: JSONEachRow below gives the verdict and the error text
                pass
        body = b"\n".join(orjson.dumps(r) for r in rows).decode()
        # unknown keys fail loudly instead of being skipped: a typo must not lose a column
        self._run(f"INSERT INTO {table} SETTINGS input_format_skip_unknown_fields = 0 "
                  f"FORMAT JSONEachRow\n{body}")

    def insert_records(self, table: str, lines: Sequence[bytes]) -> None:
        """Insert JSON lines as JSONEachRow in one statement (ClickHouse parses them)."""
        if not lines:
            return
        if not set(table) <= _TABLE_CHARS:
            raise StoreError(f"bad table name {table!r}")
        with self._lock:
            try:
                with self._session.send_insert(
                        f"INSERT INTO {table} SETTINGS input_format_skip_unknown_fields = 1",
                        "JSONEachRow") as inserter:
                    inserter.append(b"\n".join(lines))
                    inserter.finish()
            except Exception as exc:
                raise StoreError(str(exc).strip().splitlines()[0][:500]) from exc

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """SELECT with bound parameters; rows as dicts."""
        out = self._run(sql, "JSONEachRow", dict(params or {}))
        return [orjson.loads(line) for line in out.splitlines() if line]

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """DDL or another statement with no result, {name:Type} placeholders bound."""
        self._columns.clear()  # the statement may change a table's columns
        self._run(sql, params=dict(params or {}))

    def _table_columns(self, table: str) -> dict[str, ArrowColumn] | None:
        if table not in self._columns:
            database, _, name = table.rpartition(".")
            found = self.query(
                "SELECT name, type FROM system.columns WHERE database = {d:String} "
                "AND table = {t:String} AND default_kind IN ('', 'DEFAULT') ORDER BY position",
                {"d": database or "default", "t": name})
            columns = {c["name"]: arrow_column(c["type"]) for c in found}
            self._columns[table] = (None if not columns or None in columns.values()
                                    else {k: v for k, v in columns.items() if v is not None})
        return self._columns[table]

    def _send_arrow(self, table: str, batch: Any) -> None:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        names = ", ".join(f"`{n}`" for n in batch.schema.names)
        with self._lock:
            try:
                with self._session.send_insert(f"INSERT INTO {table} ({names})",
                                               "ArrowStream") as inserter:
                    inserter.append(sink.getvalue().to_pybytes())
                    inserter.finish()
            except Exception as exc:
                raise StoreError(str(exc).strip().splitlines()[0][:500]) from exc

    def _run(self, sql: str, fmt: str = "CSV", params: dict[str, Any] | None = None) -> bytes:
        with self._lock:
            try:
                result = self._session.query(sql, fmt, params=params or None)  # type: ignore[no-untyped-call]
            except Exception as exc:  # chDB raises a bare RuntimeError-like error
                raise StoreError(str(exc).strip().splitlines()[0][:500]) from exc
        data: bytes = result.bytes() if result is not None else b""
        return data

    def close(self) -> None:
        """Close the chDB session so another can be opened."""
        with self._lock:
            self._session.close()  # type: ignore[no-untyped-call]
        self._lock_file.close()


def hold_data_lock(path: Path) -> IO[bytes]:
    """An exclusive lock on `<path>.lock`, held while the file stays open.

    chDB allows one process per data folder and says so only with a C++ traceback
    (or by failing to start); this names the problem in one line instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = open(f"{path}.lock", "a+b")  # noqa: SIM115 - held open for the store's life
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise StoreError(f"the data dir {path.parent} is in use by another rum process "
                         "(a running `rum serve`?): stop it, or ask it with --server URL") from None
    return lock_file


@dataclass(frozen=True, slots=True)
class ArrowColumn:
    """How one ClickHouse column is sent: `kind` names the check, `arrow` the Arrow type."""

    kind: str  # "string", "uuid", "uint", "float" or "ms" (DateTime64(3), seconds in rows)
    arrow: str  # pyarrow type name: "string", "uint8", "float32", "timestamp"...


_SIMPLE_TYPES = {
    "String": ArrowColumn("string", "string"), "UUID": ArrowColumn("uuid", "string"),
    "UInt8": ArrowColumn("uint", "uint8"), "UInt16": ArrowColumn("uint", "uint16"),
    "UInt32": ArrowColumn("uint", "uint32"), "UInt64": ArrowColumn("uint", "uint64"),
    "Float32": ArrowColumn("float", "float32"), "Float64": ArrowColumn("float", "float64"),
}


def arrow_column(ch_type: str) -> ArrowColumn | None:
    """The Arrow form of a ClickHouse type, or None when the Arrow path does not handle it."""
    inner = ch_type
    for wrapper in ("Nullable(", "LowCardinality("):
        if inner.startswith(wrapper):
            inner = inner[len(wrapper):-1]
    if inner.startswith("DateTime64(3"):
        return ArrowColumn("ms", "timestamp")
    return _SIMPLE_TYPES.get(inner)


# DateTime64's last second (2299-12-31): past it the JSON reading is not the Arrow one
_MAX_SECONDS = 10_413_791_999.0


class _NotExact(Exception):
    """A value does not have its column's exact type: the batch goes as JSON instead."""


def arrow_batch(columns: Mapping[str, ArrowColumn], rows: Sequence[Mapping[str, Any]]) -> Any:
    """Rows as one pyarrow RecordBatch of the columns they hold, or None when some value
    would not read exactly as JSONEachRow reads it (then the caller sends JSON)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # rows come in a few shapes (the same keys in the same order); each shape is turned
    # into columns by zip in C, much cheaper than a Python loop over every value
    shapes: dict[tuple[str, ...], tuple[list[int], list[Mapping[str, Any]]]] = {}
    for index, row in enumerate(rows):
        shape = tuple(row)
        group = shapes.get(shape)
        if group is None:
            shapes[shape] = ([index], [row])
        else:
            group[0].append(index)
            group[1].append(row)
    values: dict[str, list[Any]] = {}
    order: list[int] = []
    for shape, (indices, members) in shapes.items():
        if not columns.keys() >= set(shape):
            return None  # JSON reports the unknown column
        done = len(order)
        for key, column in zip(shape, zip(*[row.values() for row in members], strict=True),
                               strict=True):
            held = values.get(key)
            if held is None:
                held = values[key] = [None] * done
            held.extend(column)
        order.extend(indices)
        for held in values.values():  # columns this shape does not have: null (the default)
            if len(held) < len(order):
                held.extend([None] * (len(order) - len(held)))
    arrays = []
    names = []
    try:
        for key, held in values.items():
            array = _to_arrow(columns[key], pa.array(held))
            if array is not None:
                arrays.append(array)
                names.append(key)
    except (_NotExact, pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
    if not arrays:
        return None
    batch = pa.RecordBatch.from_arrays(arrays, names=names)
    if len(shapes) > 1:  # back to the rows' order (of two equal keys, the last one stays)
        batch = batch.take(pc.sort_indices(pa.array(order)))
    return batch


def _to_arrow(column: ArrowColumn, array: Any) -> Any:
    """`array` (types inferred from the Python values) as the column's Arrow type, or
    _NotExact. None: every value is null, the column is left out (it takes its default)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.kind
    inferred = array.type
    if inferred == pa.null():
        return None
    if kind == "string" or kind == "uuid":
        # a UUID column reads a null as '' and fails; JSON reads it as the default
        if inferred != pa.string() or (kind == "uuid" and array.null_count):
            raise _NotExact(kind)
        return array
    if kind == "uint":
        if inferred != pa.int64():  # floats, bools, strings: JSON converts them its own way
            raise _NotExact(kind)
        return array.cast(column.arrow)  # a safe cast: out of range raises
    if inferred not in (pa.float64(), pa.int64()):
        raise _NotExact(kind)
    if kind == "float":
        out = array.cast(column.arrow)  # int64 -> float: raises when not exact
        if not pc.all(pc.is_finite(out)).as_py():  # JSON has no NaN or inf (orjson writes null)
            raise _NotExact(kind)
        return out
    # DateTime64(3) from seconds: JSON reads the decimal text and drops digits past the
    # millisecond, so only values that are whole milliseconds go as Arrow
    seconds = array.cast(pa.float64())
    millis = pc.round(pc.multiply(seconds, 1000.0))
    exact = pc.and_(pc.equal(pc.divide(millis, 1000.0), seconds),
                    pc.and_(pc.greater_equal(seconds, 0.0), pc.less(seconds, _MAX_SECONDS)))
    if not pc.all(exact).as_py():
        raise _NotExact(kind)
    return millis.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
