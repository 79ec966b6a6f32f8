"""Reading an export in chunks of records, whatever its size or format.

:func:`open_source` looks at the file once (format, encoding, delimiter, columns;
see :mod:`service.rescore.sniff`); :func:`iter_chunks` then streams it as
:class:`RawChunk` objects of a fixed number of records, starting at any record,
so memory does not grow with the file and a resumed job skips what it has done.

Delimited text goes through Python's ``csv`` module rather than Arrow's reader:
it takes any delimiter, quoted newlines and any codec, and, decoding with
``surrogateescape``, it keeps undecodable bytes as markers on their own row
(:mod:`service.rescore.rows` turns those into a row error) instead of stopping.
Records are numbered from 0 in file order, blank lines not counted.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.rescore import sniff
from service.rescore.errors import InputFileError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "RawChunk",
    "RecordProblem",
    "Source",
    "iter_chunks",
    "kind_of",
    "open_source",
    "sample_values",
]

_SURROGATES = re.compile("[\udc80-\udcff]")
_SNIFF_CHARS = 64 * 1024


@dataclass(frozen=True)
class Source:
    """An export file and how to read it.

    Attributes:
        path: The file.
        format: ``"delimited"``, ``"jsonl"`` or ``"parquet"``.
        encoding: The text encoding (None for Parquet).
        delimiter: The field delimiter (delimited text only).
        columns: The column names, in file order.
        size: Bytes, and ``mtime_ns``: modification time, to notice a changed file.
        total_rows: Records in the file when known without reading it (Parquet).
        preamble_lines: Lines before the header that are not data: Excel's
            ``sep=;`` hint line.
        header: Whether delimited text has a line of column names.
    """

    path: Path
    format: str
    encoding: str | None
    delimiter: str | None
    columns: tuple[str, ...]
    size: int
    mtime_ns: int
    total_rows: int | None = None
    preamble_lines: int = 0
    header: bool = True

    @property
    def progress_total(self) -> int:
        """Units of :attr:`RawChunk.position`: rows for Parquet, else bytes."""
        return self.total_rows if self.total_rows is not None else self.size


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be parsed at all (e.g. a line that is not JSON)."""

    code: str
    message: str


@dataclass
class RawChunk:
    """Consecutive records: the text values as read, and the other columns.

    Attributes:
        first_row: Number of the first record (from 0).
        texts: The text column's values, or a :class:`RecordProblem` per record.
        values: Other wanted columns: lists of strings (None where absent) for
            text formats, Arrow arrays for Parquet.
        position: How far into the file this chunk ends (see
            :attr:`Source.progress_total`).
    """

    first_row: int
    texts: list[object]
    values: dict[str, list[str | None] | pa.Array] = field(default_factory=dict)
    position: int = 0


def open_source(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header: bool = True,
) -> Source:
    """Find out how to read ``path``: format, encoding, delimiter and columns.

    Args:
        path: The export.
        encoding: The text encoding, when known; detected otherwise.
        delimiter: The field delimiter of delimited text; sniffed otherwise.
        header: Whether delimited text starts with a line of column names; when
            not, the columns are named ``column_1``, ``column_2``, ...

    Raises:
        InputFileError: If the file is missing, empty, or cannot be parsed.
    """
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if not path.is_file():
        raise InputFileError(f"{path}: not a file; give the export file")
    fmt = sniff.detect_format(path)
    stat = path.stat()
    if fmt == "parquet":
        return _open_parquet(path, stat.st_size, stat.st_mtime_ns)
    if encoding is None:
        encoding = sniff.detect_encoding(path)
    else:
        _check_codec(encoding)
    if fmt == "jsonl":
        columns = _jsonl_columns(path, encoding)
        delimiter, preamble = None, 0
    else:
        with _open_text(path, encoding) as f:
            sample = f.read(_SNIFF_CHARS)
        hinted = sniff.excel_separator(sample)
        preamble = 0 if hinted is None else 1
        if delimiter:
            delimiter = sniff.normalize_delimiter(delimiter)
        elif hinted is not None:
            delimiter = hinted
        else:
            delimiter = sniff.sniff_delimiter(sample, suffix=path.suffix)
        columns = _csv_header(path, encoding, delimiter, preamble, named=header)
    return Source(
        path,
        fmt,
        encoding,
        delimiter,
        columns,
        stat.st_size,
        stat.st_mtime_ns,
        preamble_lines=preamble,
        header=header,
    )


def sample_values(source: Source, rows: int = 200) -> dict[str, list[object]]:
    """The values of every column in the first ``rows`` records."""
    samples: dict[str, list[object]] = {c: [] for c in source.columns}
    for chunk in iter_chunks(source, source.columns[0], source.columns[1:], size=rows):
        for name, column in [(source.columns[0], chunk.texts), *chunk.values.items()]:
            values = column if isinstance(column, list) else column.to_pylist()
            samples[name] = [_sanitize(v) if isinstance(v, str) else v for v in values]
        break
    return samples


def iter_chunks(
    source: Source,
    text_column: str,
    other_columns: Sequence[str] = (),
    *,
    start: int = 0,
    size: int = 1024,
) -> Iterator[RawChunk]:
    """Stream the records of ``source`` from record ``start``, ``size`` at a time.

    Args:
        source: The opened export.
        text_column: The column read into :attr:`RawChunk.texts`.
        other_columns: Columns read into :attr:`RawChunk.values`.
        start: Records to skip first.
        size: Records per chunk (the last one may hold fewer).
    """
    if source.format == "parquet":
        yield from _parquet_chunks(source, text_column, other_columns, start, size)
        return
    records = (
        _jsonl_records(source, text_column, other_columns)
        if source.format == "jsonl"
        else _csv_records(source, text_column, other_columns)
    )
    chunk = RawChunk(first_row=start, texts=[], values={c: [] for c in other_columns})
    for number, (text, others, position) in enumerate(records):
        if number < start:
            continue
        chunk.texts.append(text)
        for name, value in zip(other_columns, others, strict=True):
            column = chunk.values[name]
            assert isinstance(column, list)  # text formats hold lists
            column.append(value)
        chunk.position = position
        if len(chunk.texts) == size:
            yield chunk
            chunk = RawChunk(
                first_row=number + 1, texts=[], values={c: [] for c in other_columns}
            )
    if chunk.texts:
        chunk.position = source.size
        yield chunk


# Delimited text


def _csv_header(
    path: Path, encoding: str, delimiter: str, preamble: int, *, named: bool
) -> tuple[str, ...]:
    with _open_text(path, encoding) as f:
        for _ in range(preamble):
            f.readline()
        header = next((row for row in csv.reader(f, delimiter=delimiter) if row), None)
    if header is None:
        expected = "a header row" if named else "a row"
        raise InputFileError(f"{path}: the file is empty; expected {expected}")
    if not named:
        return tuple(f"column_{n}" for n in range(1, len(header) + 1))
    # Blank and repeated names get a number, so every column can be named.
    names: list[str] = []
    for number, cell in enumerate(header, start=1):
        name = _sanitize(cell).strip() or f"column_{number}"
        names.append(f"{name}_{number}" if name in names else name)
    return tuple(names)


def _csv_records(
    source: Source, text_column: str, other_columns: Sequence[str]
) -> Iterator[tuple[object, list[str | None], int]]:
    assert source.encoding is not None and source.delimiter is not None
    delimiter = source.delimiter
    index = {name: i for i, name in enumerate(source.columns)}
    wanted = [index[text_column], *(index[c] for c in other_columns)]
    _allow_long_fields()
    with source.path.open("rb") as raw:
        text = io.TextIOWrapper(
            raw, encoding=source.encoding, errors="surrogateescape", newline=""
        )
        for _ in range(source.preamble_lines):
            text.readline()
        lines = _Lines(text, first_number=source.preamble_lines + 1)
        # Strict, so that a quote that never closes is an error, not the rest of
        # the file read as one field.
        rows = csv.reader(lines, delimiter=delimiter, strict=True)
        if source.header:
            next(rows, None)
        while True:
            lines.start_record()
            try:
                row = next(rows)
            except StopIteration:
                return
            except (csv.Error, _RecordTooLong) as e:
                # Only the record's first line is bad: the lines the reader took
                # with it (a quote opened there and closed lines later, or never)
                # are read again as records of their own.
                first, taken = lines.record_start, lines.give_back_all_but_first()
                others = _plain_cells(taken, wanted, delimiter)[1:]
                problem = _malformed(first, len(taken), str(e))
                yield problem, others, raw.tell()
                continue
            if not row:
                continue
            extra = row[len(source.columns) :]
            if any(cell.strip() for cell in extra):  # trailing empty cells are fine
                if wanted[0] != len(source.columns) - 1:
                    others = [_sanitize(row[0]) if i == 0 else None for i in wanted]
                    problem = _too_wide(lines.record_start, len(row), source)
                    yield problem, others[1:], raw.tell()
                    continue
                # The text is the last column: the unquoted delimiters are its own.
                text_at = wanted[0]
                row = [*row[:text_at], delimiter.join(row[text_at:])]
            values = [row[i] if i < len(row) else None for i in wanted]
            others = [None if v is None else _sanitize(v) for v in values[1:]]
            yield values[0], others, raw.tell()


_RECORD_MAX_LINES = 10_000
_RECORD_MAX_CHARS = 32 * 1024 * 1024


_TOO_LONG = "a quoted field runs over more than"


class _RecordTooLong(Exception):
    """A record runs over too many lines: a quote that never closes, in practice."""


class _Lines:
    """The lines of a text stream for ``csv.reader``, numbered from 1.

    It remembers the lines of the record being read, so that after a parse error
    all but the first can be handed out again, and it stops a record that grows
    past :data:`_RECORD_MAX_LINES` lines or :data:`_RECORD_MAX_CHARS` characters,
    so that memory stays bounded whatever the file.
    """

    def __init__(self, text: io.TextIOWrapper, *, first_number: int) -> None:
        self._text = text
        self._returned: list[str] = []  # a stack: the next line is last
        self._next_number = first_number
        self._taken: list[str] = []
        self._taken_chars = 0
        self.record_start = first_number

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self._taken) >= _RECORD_MAX_LINES or (
            self._taken_chars >= _RECORD_MAX_CHARS
        ):
            size = (
                f"{len(self._taken):,} lines"
                if len(self._taken) >= _RECORD_MAX_LINES
                else f"{self._taken_chars:,} characters"
            )
            raise _RecordTooLong(f"{_TOO_LONG} {size}")
        line = self._returned.pop() if self._returned else self._text.readline()
        if not line:
            raise StopIteration
        self._next_number += 1
        self._taken.append(line)
        self._taken_chars += len(line)
        return line

    def start_record(self) -> None:
        """Mark where the next record begins."""
        self.record_start = self._next_number
        self._taken, self._taken_chars = [], 0

    def give_back_all_but_first(self) -> list[str]:
        """Hand the current record's lines after its first out again.

        Returns:
            The lines the record had taken (the first one stays consumed).
        """
        taken = self._taken
        self._returned.extend(reversed(taken[1:]))
        self._next_number = self.record_start + 1
        return taken


def _plain_cells(
    taken: list[str], wanted: Sequence[int], delimiter: str
) -> list[str | None]:
    """The wanted cells of a bad record's first line that need no CSV parsing.

    A cell is kept when no quote character appears up to and including it, where
    splitting on the delimiter reads it exactly as a CSV reader would.
    """
    if not taken:
        return [None] * len(wanted)
    cells = taken[0].rstrip("\r\n").split(delimiter)
    plain = 0
    while plain < len(cells) and '"' not in cells[plain]:
        plain += 1
    return [_sanitize(cells[i]) if i < plain else None for i in wanted]


def _malformed(line: int, lines_taken: int, reason: str) -> RecordProblem:
    if reason == "unexpected end of data":
        reason = "a quoted field opened on this line never closes"
    elif lines_taken > 1 and not reason.startswith(_TOO_LONG):
        last = line + lines_taken - 1
        reason = f"a quoted field opened on this line runs into line {last}"
    again = "; the lines after it were read on their own" if lines_taken > 1 else ""
    return RecordProblem(
        "invalid_record",
        f"line {line}: not valid CSV ({reason}){again}; fix the quoting there",
    )


def _too_wide(line: int, fields: int, source: Source) -> RecordProblem:
    delimiter = "tab" if source.delimiter == "\t" else repr(source.delimiter)
    return RecordProblem(
        "invalid_record",
        f"line {line}: {fields} fields where the header has {len(source.columns)}; "
        f"a text holding the delimiter ({delimiter}) must be quoted when it is not "
        "the last column",
    )


def _allow_long_fields() -> None:
    # The csv module refuses fields over 128 KiB by default; a long text must
    # become a "text_too_long" row, not stop the file.
    if csv.field_size_limit() < sys.maxsize // 2:
        csv.field_size_limit(2**31 - 1)


# JSON Lines


def _jsonl_columns(path: Path, encoding: str) -> tuple[str, ...]:
    columns: dict[str, None] = {}
    with _open_text(path, encoding) as f:
        for n, line in enumerate(f):
            if n >= 1000:
                break
            record = _json_object(line.rstrip("\r\n"))
            if isinstance(record, dict):
                columns.update(dict.fromkeys(record))
    if not columns:
        raise InputFileError(
            f"{path}: found no JSON object in the first lines; expected JSON Lines"
        )
    return tuple(columns)


def _jsonl_records(
    source: Source, text_column: str, other_columns: Sequence[str]
) -> Iterator[tuple[object, list[str | None], int]]:
    assert source.encoding is not None
    with source.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=source.encoding, errors="surrogateescape")
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            record = _json_object(line.rstrip("\r\n"))
            if isinstance(record, RecordProblem):
                problem = RecordProblem(record.code, f"line {number}: {record.message}")
                yield problem, [None] * len(other_columns), raw.tell()
                continue
            others = [_as_string(record.get(c)) for c in other_columns]
            yield record.get(text_column), others, raw.tell()


def _json_object(line: str) -> dict[str, Any] | RecordProblem:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        return RecordProblem(
            "invalid_record", f"not valid JSON: {e.msg} column {e.colno}"
        )
    if not isinstance(record, dict):
        return RecordProblem(
            "invalid_record", f"expected a JSON object, got {kind_of(record)}"
        )
    return record


def kind_of(value: object) -> str:
    """Name the kind of a cell's value as a user knows it: "a number", "a list"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    name = type(value).__name__
    return f"a {name}" if name[:1].lower() not in "aeiou" else f"an {name}"


def _as_string(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _sanitize(value)
    return (
        json.dumps(value, ensure_ascii=False)
        if isinstance(value, (dict, list))
        else str(value)
    )


# Parquet


def _open_parquet(path: Path, size: int, mtime_ns: int) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as e:
        raise InputFileError(f"{path}: not a readable Parquet file: {e}") from None
    columns = tuple(metadata.schema.to_arrow_schema().names)
    return Source(
        path, "parquet", None, None, columns, size, mtime_ns, metadata.num_rows
    )


def _parquet_chunks(
    source: Source,
    text_column: str,
    other_columns: Sequence[str],
    start: int,
    size: int,
) -> Iterator[RawChunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source.path)
    first_group, skipped = 0, 0
    while first_group < file.num_row_groups:
        rows = file.metadata.row_group(first_group).num_rows
        if skipped + rows > start:
            break
        skipped += rows
        first_group += 1
    groups = list(range(first_group, file.num_row_groups))
    columns = list(dict.fromkeys([text_column, *other_columns]))
    batches = file.iter_batches(batch_size=size, row_groups=groups, columns=columns)
    pending: list[pa.RecordBatch] = []
    buffered, row = 0, skipped  # row: the number of the first pending record
    for batch in batches:
        if row < start:
            drop = min(start - row, batch.num_rows)
            batch, row = batch.slice(drop), row + drop
        pending.append(batch)
        buffered += batch.num_rows
        while buffered >= size:
            table = pa.Table.from_batches(pending)
            yield _parquet_chunk(table.slice(0, size), row, text_column, other_columns)
            rest = table.slice(size)
            pending, buffered, row = rest.to_batches(), rest.num_rows, row + size
    if buffered:
        table = pa.Table.from_batches(pending)
        yield _parquet_chunk(table, row, text_column, other_columns)


def _parquet_chunk(
    table: pa.Table, first_row: int, text_column: str, other_columns: Sequence[str]
) -> RawChunk:
    import pyarrow as pa

    column = table.column(text_column).combine_chunks()
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        texts: list[object] = [
            None if b is None else b.decode("utf-8", errors="surrogateescape")
            for b in column.to_pylist()
        ]
    else:
        texts = column.to_pylist()
    values: dict[str, list[str | None] | pa.Array] = {
        c: table.column(c).combine_chunks() for c in other_columns
    }
    return RawChunk(first_row, texts, values, position=first_row + table.num_rows)


# Helpers


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return path.open("r", encoding=encoding, errors="surrogateescape", newline="")


def _check_codec(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputFileError(
            f"unknown encoding {encoding!r}; use a Python codec name such as "
            "'utf-8', 'cp1252' or 'latin-1'"
        ) from None


def _sanitize(value: str) -> str:
    """Replace undecodable bytes (kept as lone surrogates) with U+FFFD."""
    if _SURROGATES.search(value) is None:
        return value
    return _SURROGATES.sub("\ufffd", value)
