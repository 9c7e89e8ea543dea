"""Streaming readers and writers for ``hotcrm-ai score``: Parquet files and datasets, CSV, JSON lines,
all through Arrow, one chunk at a time (memory follows the chunk size, not the file).

CSV cells are text: columns of number and integer features are parsed as numbers (a cell that is not
one stays text, so that row is refused with the usual message); other columns stay strings; an empty
cell is a missing value. JSON lines are parsed as ``predict`` would see each object.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.scoring.arrow import to_columns
from hotcrm_ai.types import ModelConfig

FORMATS = ("parquet", "csv", "jsonl")
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

Chunk = tuple[dict[str, Any], int]


def format_of(path: str | os.PathLike[str], given: str | None, what: str) -> str:
    if given:
        return given
    p = Path(path)
    if p.is_dir() or not p.suffix:  # a folder: a Parquet dataset
        return "parquet"
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise ValidationError(
            [FieldError(what, "a .parquet, .csv or .jsonl path (or --format)", p.name)], subject="score"
        )
    return fmt


def count_rows(path: str, fmt: str) -> int | None:
    """Rows in the input when the format records it (Parquet), else None."""
    if fmt != "parquet":
        return None
    import pyarrow.dataset as ds

    return int(ds.dataset(path, format="parquet").count_rows())


def read_chunks(path: str, fmt: str, chunk_rows: int, model: ModelConfig) -> Iterator[Chunk]:
    if fmt == "parquet":
        yield from _parquet(path, chunk_rows)
    elif fmt == "csv":
        yield from _csv(path, chunk_rows, model)
    else:
        yield from _jsonl(path, chunk_rows)


def _parquet(path: str, chunk_rows: int) -> Iterator[Chunk]:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if Path(path).is_dir():
        batches = ds.dataset(path, format="parquet").to_batches(batch_size=chunk_rows)
    else:
        file = pq.ParquetFile(path)
        strings = [f.name for f in file.schema_arrow if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        file = pq.ParquetFile(path, read_dictionary=strings)  # categories arrive coded, no re-hashing
        batches = file.iter_batches(batch_size=chunk_rows)
    for batch in batches:
        yield to_columns(batch)


def _csv(path: str, chunk_rows: int, model: ModelConfig) -> Iterator[Chunk]:
    import csv

    import pyarrow.csv as pacsv

    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    numeric = {f.name: f.dtype for f in model.features if f.dtype in ("number", "integer")}
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=max(1 << 20, min(chunk_rows * 256, 1 << 28))),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=True),
    )
    for batch in reader:
        columns, n = to_columns(batch)
        for name, dtype in numeric.items():
            if name in columns:
                columns[name] = _numbers(batch.column(name), dtype)
        yield columns, n


def _numbers(text: pa.Array, dtype: str) -> Any:
    """A text column of a numeric feature as numbers, cell by cell only where Arrow's cast refuses."""
    from hotcrm_ai.scoring.arrow import column_from_arrow

    for target in (pa.int64(), pa.float64()):
        try:
            return column_from_arrow(pc.cast(text, target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return [None if v is None else _number(v) for v in text.to_pylist()]


def _number(cell: str) -> Any:
    for parse in (int, float):
        try:
            return parse(cell)
        except ValueError:
            continue
    return cell


def _jsonl(path: str, chunk_rows: int) -> Iterator[Chunk]:
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"valid JSON ({exc.msg})", subject=f"--input line {number}") from None
            if not isinstance(row, dict):
                raise ValidationError(
                    f"a JSON object of features, got {type(row).__name__}", subject=f"--input line {number}"
                )
            rows.append(row)
            if len(rows) == chunk_rows:
                yield _columns(rows)
                rows = []
    if rows:
        yield _columns(rows)


def _columns(rows: list[dict[str, Any]]) -> Chunk:
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    return {k: [r.get(k) for r in rows] for k in names}, len(rows)


class Writer:
    """Appends scored tables to one output file in ``fmt``; ``close`` finishes it.

    Chunks whose rows all failed carry no prediction columns; they wait (small: errors only) until a
    chunk shows the full set of columns, then everything is written with that schema."""

    def __init__(self, path: Path, fmt: str, keep: tuple[str, ...] = ()) -> None:
        self.path, self.fmt, self.keep = path, fmt, keep
        self._pending: list[pa.Table] = []
        self._parquet: Any = None
        self._csv: Any = None
        self._fh: Any = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if self._schema is None and self.fmt != "jsonl":
            predicted = len(table.column_names) > len(self.keep) + 5  # beyond kept and status columns
            if not predicted and table.num_rows and table.column("error").null_count == 0:
                self._pending.append(table)
                return
            pending, self._pending = self._pending, []
            if pending:
                from hotcrm_ai.scoring.arrow import in_order

                table = in_order(pa.concat_tables([*pending, table], promote_options="default"), self.keep)
        self._write(table)

    def _write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            self._write_parquet(table)
        elif self.fmt == "csv":
            self._write_csv(table)
        else:
            if self._fh is None:
                self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in table.to_pylist())

    def _write_parquet(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._schema = _concrete(table.schema)
            self._parquet = pq.ParquetWriter(self.path, self._schema)
        self._parquet.write_table(_conform(table, self._schema))

    def _write_csv(self, table: pa.Table) -> None:
        import pyarrow.csv as pacsv

        flat = pa.table({name: _flat(table.column(name)) for name in table.column_names})
        if self._csv is None:
            self._schema = _concrete(flat.schema)
            self._csv = pacsv.CSVWriter(str(self.path), self._schema)
        self._csv.write_table(_conform(flat, self._schema))

    def close(self) -> None:
        if self._pending:  # every row failed: the errors are the output
            pending, self._pending = self._pending, []
            self._write(pa.concat_tables(pending, promote_options="default"))
        for handle in (self._parquet, self._csv, self._fh):
            if handle is not None:
                handle.close()
        if self._parquet is None and self._csv is None and self._fh is None:  # no rows: an empty output
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(pa.table({"error": pa.array([], pa.string())}), self.path)
            else:
                self.path.write_bytes(b"")


def _flat(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Nested values (lists, structs) as JSON text, since CSV cells are flat."""
    if pa.types.is_nested(col.type):
        return pa.array(
            [None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_pylist()], type=pa.string()
        )
    return col


def _concrete(schema: pa.Schema) -> pa.Schema:
    """Columns that were all null in the first chunk are written as text, the one type every value has."""
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema])


def _conform(table: pa.Table, schema: pa.Schema | None) -> pa.Table:
    if schema is None or table.schema.equals(schema):
        return table
    extra = set(table.column_names) - set(schema.names)
    if extra:
        raise ValidationError(
            [
                FieldError(
                    "output",
                    f"the columns of the first chunk ({', '.join(schema.names)})",
                    f"new columns {', '.join(sorted(extra))}",
                )
            ],
            subject="score",
        )
    columns = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            columns.append(col if col.type == field.type else col.cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)
