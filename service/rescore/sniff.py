"""What an export is: its format, text encoding, delimiter and which columns matter.

Everything here looks at a bounded sample of the file, never all of it:

- the format comes from the suffix, else from the first bytes (``PAR1`` is Parquet,
  ``{`` is JSON Lines, anything else is delimited text);
- the encoding is the byte-order mark's when there is one; otherwise UTF-8 when a
  sample spread over the file decodes as UTF-8 (a few stray bytes among many valid
  multibyte characters still count as UTF-8: those rows are reported as
  undecodable), else charset-normalizer's best guess;
- the delimiter is the candidate under which the sample parses into the most
  consistent table (``csv.Sniffer`` is asked first and checked the same way);
- the text column is the one with a usual name (``text``, ``content``, ``review``,
  ...), else the only column that reads as prose; the id column is one named
  ``id``, ``*_id`` or ``*Id``.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from service.rescore.errors import ColumnError, InputFileError

__all__ = [
    "NO_HEADER_ADVICE",
    "choose_id_column",
    "choose_text_column",
    "data_like_header",
    "detect_encoding",
    "detect_format",
    "excel_separator",
    "no_header_hint",
    "normalize_delimiter",
    "require_column",
    "sniff_delimiter",
    "unused_options",
]

_SAMPLE_WINDOW = 1 << 20
_SAMPLE_WINDOWS = 8
_DELIMITERS = ",;\t|"
_CHAOS_MARGIN = 0.1
_SURROGATES = re.compile("[\udc80-\udcff]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_NAMES = {
    "text",
    "content",
    "review",
    "reviewtext",
    "reviewbody",
    "reviewcontent",
    "body",
    "comment",
    "comments",
    "commenttext",
    "feedback",
    "feedbacktext",
    "message",
    "verbatim",
    "freetext",
    "opentext",
    "response",
    "answer",
}
_ID_NAME = re.compile(r"(^id$)|([_\s.-]id$)|(^uuid$)", re.IGNORECASE)
_ID_CAMEL = re.compile(r"[a-z0-9]Id$")


# Files that are often handed over in place of an export.
_ARCHIVES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls)"),
    (b"%PDF", "a PDF document"),
)


def detect_format(path: Path) -> str:
    """Return ``"parquet"``, ``"jsonl"`` or ``"delimited"`` for the file at ``path``.

    Raises:
        InputFileError: If the file is missing or is one JSON array.
    """
    head = _read_head(path, 4096)
    for magic, kind in _ARCHIVES:
        if head.startswith(magic):
            raise InputFileError(
                f"{path}: this is {kind}, not an export; save or extract it as CSV, "
                "JSON Lines or Parquet first"
            )
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"} or head.startswith(b"PAR1"):
        return "parquet"
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix in {".csv", ".tsv", ".tab", ".txt"}:
        return "delimited"
    first = head.lstrip(codecs.BOM_UTF8).lstrip()[:1]
    if first == b"[":
        raise InputFileError(
            f"{path}: a JSON array is not supported; convert it to JSON Lines "
            "(one object per line), CSV or Parquet"
        )
    return "jsonl" if first == b"{" else "delimited"


def detect_encoding(path: Path) -> str:
    """Guess the text encoding of ``path`` from a sample spread over the file.

    Raises:
        InputFileError: If no encoding fits; the message says to pass --encoding.
    """
    head = _read_head(path, 4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = _spread_sample(path)
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        return utf16
    text = sample.decode("utf-8", errors="surrogateescape")
    invalid = len(_SURROGATES.findall(text))
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - invalid
    # A legacy code page almost never forms valid UTF-8 sequences, so a sample
    # with some of those is UTF-8 with a few broken bytes (each such row becomes
    # "undecodable"), not a legacy file.
    if invalid == 0 or (multibyte > 0 and invalid <= multibyte):
        return "utf-8"
    return _legacy_encoding(
        path, sample, utf8_nearly=invalid <= max(8, len(sample) / 100)
    )


def _utf16_without_bom(sample: bytes) -> str | None:
    # Text in UTF-16 without a byte-order mark: mostly ASCII, so every other byte
    # is NUL, on the odd positions for little-endian and the even ones for big.
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    odd_nul = sample[1 : 2 * pairs : 2].count(0)
    even_nul = sample[0 : 2 * pairs : 2].count(0)
    for nuls, others, name in (
        (odd_nul, even_nul, "utf-16-le"),
        (even_nul, odd_nul, "utf-16-be"),
    ):
        if nuls >= 0.6 * pairs and others <= 0.05 * pairs:
            try:
                sample[: 2 * pairs].decode(name)
            except UnicodeDecodeError:
                continue
            return name
    return None


def _legacy_encoding(path: Path, sample: bytes, *, utf8_nearly: bool) -> str:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    if not matches and utf8_nearly:
        # Nothing else fits and the broken bytes are few: UTF-8, whose broken
        # rows become "undecodable" rows.
        return "utf-8"
    if not matches:
        raise InputFileError(
            f"{path}: cannot tell the text encoding; name it with --encoding "
            "(e.g. --encoding cp1252)"
        )
    # Western text fits several single-byte code pages about equally well, and
    # charset-normalizer then often ranks a rare one (iso8859_10) first. Exports
    # of that kind come from Windows tools in Windows-1252 (a superset of the
    # printable Latin-1), so it wins when it decodes the sample and is nearly as
    # plausible as the best match.
    best = min(m.chaos for m in matches)
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best + _CHAOS_MARGIN:
            return "cp1252"
    return str(matches[0].encoding)


def normalize_delimiter(value: str) -> str:
    """Turn a ``--delimiter`` value (``;``, ``\\t``, ``tab``) into one character.

    Raises:
        InputFileError: If the value is not a single character.
    """
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1:
        raise InputFileError(
            f"expected --delimiter to be one character (or 'tab'), got {value!r}"
        )
    return delimiter


_EXCEL_SEPARATOR = re.compile(r"\ufeff?sep=(.)\r?(?:\n|$)")


def excel_separator(sample: str) -> str | None:
    """The delimiter named by Excel's ``sep=;`` first line, if the file has one."""
    match = _EXCEL_SEPARATOR.match(sample)
    return None if match is None else match.group(1)


def sniff_delimiter(sample: str, *, suffix: str = "") -> str:
    """Pick the delimiter under which ``sample`` parses into the steadiest table."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may end in the middle of a row
    sample = "".join(lines)
    default = "\t" if suffix.lower() in {".tsv", ".tab"} else ","
    try:
        guess: str | None = (
            csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
        )
    except csv.Error:
        guess = None
    if guess is not None:
        steady, width = _consistency(sample, guess)
        if steady >= 0.9 and width >= 2:
            return guess
    scored = [(_consistency(sample, d), d == default, d) for d in _DELIMITERS]
    best_score, _, best = max(scored)
    return best if best_score[1] >= 2 else default


_DATA_LIKE = re.compile(
    r"""
    [-+]?\d+(?:[.,]\d+)?                                 # a number
    | \d{4}-\d{2}-\d{2}(?:[T\ ]\d{2}:\d{2}.*)?              # an ISO date or time
    | [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}  # a UUID
    """,
    re.IGNORECASE | re.VERBOSE,
)


def data_like_header(columns: Sequence[str]) -> str | None:
    """A column name that reads like a value, hinting that the file has no header.

    Returns:
        The first name that is a number, a date or a UUID, or a sentence of six
        or more words; None when every name looks like a name.
    """
    for name in columns:
        if _DATA_LIKE.fullmatch(name.strip()) or len(name.split()) >= 6:
            return name
    return None


def no_header_hint(fmt: str, columns: Sequence[str], *, header: bool) -> str | None:
    """The column name that reads like data when delimited text was read with a
    header line, hinting that it has none; else None."""
    if fmt != "delimited" or not header:
        return None
    return data_like_header(columns)


NO_HEADER_ADVICE = (
    "The first line reads like data: without a header line, pass --no-header."
)


def unused_options(
    fmt: str, *, encoding: str | None, delimiter: str | None, header: bool
) -> list[str]:
    """Notes on reading options given for an input they do not apply to."""
    kind = {"parquet": "Parquet", "jsonl": "JSON Lines"}.get(fmt)
    if kind is None:
        return []
    given = [
        ("--encoding", fmt == "parquet" and encoding is not None),
        ("--delimiter", delimiter is not None),
        ("--no-header", not header),
    ]
    return [
        f"note: {option} does not apply to {kind} input and is ignored"
        for option, is_given in given
        if is_given
    ]


def require_column(
    name: str, columns: Sequence[str], *, path: Path, option: str
) -> str:
    """Return ``name`` if the file has that column, else raise a helpful error.

    Raises:
        ColumnError: Naming the columns there are and the closest match.
    """
    if name in columns:
        return name
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ColumnError(
        f"{path}: no column {name!r} ({option}); the columns are "
        f"{_listing(columns)}.{hint}",
        columns=columns,
        option=option,
    )


def choose_text_column(
    columns: Sequence[str], samples: Mapping[str, Sequence[object]], *, path: Path
) -> str:
    """Find the column holding the texts when it is obvious.

    Args:
        columns: The file's columns, in order.
        samples: Some values of each column, from the first rows.
        path: The file, for the error message.

    Raises:
        ColumnError: If no column, or more than one, could be the text column.
    """
    if len(columns) == 1:
        return columns[0]
    named = [c for c in columns if _normal(c) in _TEXT_NAMES]
    if len(named) == 1:
        return named[0]
    candidates = named or [c for c in columns if _reads_as_prose(samples.get(c, ()))]
    if len(candidates) == 1:
        return candidates[0]
    why = (
        f"several columns could hold it ({_listing(candidates)})"
        if candidates
        else "no column looks like free text"
    )
    raise ColumnError(
        f"{path}: cannot tell which column holds the text: {why}. Name it with "
        f"--text-column; the columns are {_listing(columns)}",
        columns=columns,
    )


def choose_id_column(columns: Sequence[str], *, exclude: Sequence[str]) -> str | None:
    """Return the one column named like an id (``id``, ``review_id``, ``reviewId``),
    or None when there is none or several."""
    found = [
        c
        for c in columns
        if c not in exclude and (_ID_NAME.search(c.strip()) or _ID_CAMEL.search(c))
    ]
    return found[0] if len(found) == 1 else None


def _consistency(sample: str, delimiter: str) -> tuple[float, int]:
    rows = [r for r in csv.reader(sample.splitlines(), delimiter=delimiter) if r]
    if not rows:
        return (0.0, 0)
    width = len(rows[0])
    steady = sum(1 for r in rows if len(r) == width) / len(rows)
    return (round(steady, 3), width)


def _reads_as_prose(values: Sequence[object]) -> bool:
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    if len(texts) < max(1, len(values) // 2):
        return False
    spaced = sum(1 for t in texts if " " in t.strip()) / len(texts)
    return spaced >= 0.5 and statistics.median(len(t) for t in texts) >= 12


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _listing(columns: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in columns)


def _read_head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder; give a file") from None


def _spread_sample(path: Path) -> bytes:
    # Windows cut on line ends: a newline is one byte in every ASCII-compatible
    # encoding, so no multibyte character is split at a window's edge.
    size = path.stat().st_size
    with path.open("rb") as f:
        if size <= _SAMPLE_WINDOW * _SAMPLE_WINDOWS:
            return f.read()
        step = (size - _SAMPLE_WINDOW) // (_SAMPLE_WINDOWS - 1)
        pieces = []
        for k in range(_SAMPLE_WINDOWS):
            f.seek(k * step)
            window = f.read(_SAMPLE_WINDOW)
            start = 0 if k == 0 else window.find(b"\n") + 1
            end = window.rfind(b"\n") + 1 or len(window)
            pieces.append(window[start:end])
        return b"".join(pieces)
