"""Writing the final output and the error report, streamed table by table.

The output format follows the suffix: ``.parquet`` (or ``.pq``), ``.csv`` or
``.tsv``. Both are written to a temporary name next to the target and renamed
into place when complete, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from service.rescore.errors import RescoreError
from service.rescore.scoring import ROW

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ErrorReport", "TableWriter", "output_format", "sidecar"]

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv"}


def output_format(path: Path) -> str:
    """Return ``"parquet"``, ``"csv"`` or ``"tsv"`` for an output path.

    Raises:
        RescoreError: If the suffix is none of those.
    """
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise RescoreError(
            f"--out {str(path)!r}: cannot tell the output format from the suffix "
            f"{path.suffix!r}; end the name in .parquet, .csv or .tsv"
        )
    return fmt


def sidecar(output: Path, suffix: str) -> Path:
    """A file next to the output: ``scored.csv`` → ``scored.errors.csv``."""
    return output.with_name(output.stem + suffix)


class TableWriter:
    """Streams tables of one schema into a Parquet, CSV or TSV file.

    Args:
        path: The file to create (replaced when :meth:`close` succeeds).
        schema: The schema of every table written.
        fmt: ``"parquet"``, ``"csv"`` or ``"tsv"``.
    """

    def __init__(self, path: Path, schema: pa.Schema, *, fmt: str) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        self.path = path
        self._tmp = path.with_name(path.name + ".tmp")
        self._writer: Any
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")
        else:
            options = pacsv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
            self._writer = pacsv.CSVWriter(self._tmp, schema, write_options=options)

    def write(self, table: pa.Table) -> None:
        """Append the rows of ``table``."""
        self._writer.write_table(table)

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._writer.close()
        with self._tmp.open("rb") as f:
            os.fsync(f.fileno())
        self._tmp.replace(self.path)

    def abort(self) -> None:
        """Drop the unfinished file."""
        self._writer.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


class ErrorReport:
    """The bad rows of an output as CSV: row number, id, error code and message.

    Args:
        path: The CSV file to write.
        id_column: The output's id column (``row`` when the input has none).
        id_type: Its Arrow type.
    """

    def __init__(self, path: Path, *, id_column: str, id_type: pa.DataType) -> None:
        import pyarrow as pa

        self.id_column = id_column
        self.rows = 0
        fields = [pa.field("row", pa.int64())]
        if id_column != "row":
            fields.append(pa.field(id_column, id_type))
        fields += [
            pa.field("error", pa.string()),
            pa.field("error_message", pa.string()),
        ]
        self._schema = pa.schema(fields)
        self._writer = TableWriter(path, self._schema, fmt="csv")

    def add(self, table: pa.Table) -> None:
        """Write the rows of ``table`` (output rows with ``__row``) that have an
        error."""
        import pyarrow as pa
        import pyarrow.compute as pc

        chosen = table.filter(pc.is_valid(table.column("error")))
        if chosen.num_rows == 0:
            return
        columns = {"row": pc.add(chosen.column(ROW), 1)}
        for name in self._schema.names[1:]:
            columns[name] = chosen.column(name)
        self.rows += chosen.num_rows
        self._writer.write(pa.table(columns, schema=self._schema))

    def close(self) -> None:
        """Finish the report."""
        self._writer.close()

    def abort(self) -> None:
        """Drop the unfinished report."""
        self._writer.abort()
