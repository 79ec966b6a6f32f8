"""From raw records to the table the scorer reads, each bad row with its reason.

A row is bad, and is written with ``status = "error"`` instead of stopping the
file, when its text is:

===================  ===========================================================
``missing_text``     absent, null, NaN, or a placeholder (``nan``, ``null``, ``N/A``)
``empty_text``       empty, or only whitespace and invisible characters
``undecodable``      holding bytes that are not valid in the file's encoding
``text_too_long``    longer than ``max_chars`` (the analyzer reads long texts in
                     pieces, so the limit is about cost, not correctness)
``invalid_type``     not text (a number, a boolean, a JSON object or list)
``invalid_record``   the whole record could not be parsed (a line that is not JSON,
                     a quote that never closes, more fields than the header)
===================  ===========================================================
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.rescore.readers import RawChunk, RecordProblem, kind_of
from service.rescore.scoring import ROW, TEXT, result_names

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_MAX_CHARS", "Layout", "check_text", "prepare"]

# Far above any review or ticket; a longer text is usually a pasted log or a whole
# mailbox, which costs minutes to read in pieces. --max-chars raises it.
DEFAULT_MAX_CHARS = 20_000

_PLACEHOLDERS = {"nan", "null", "none", "n/a", "#n/a", "na"}
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Layout:
    """The input columns the job reads, and their names in the output.

    Attributes:
        text: The text column.
        id: The id column; None numbers the rows (output column ``row``, from 1).
        time: A time column copied to the output, or None.
        account: An account column copied to the output, or None.
        themes: Whether the output has theme columns.
    """

    text: str
    id: str | None = None
    time: str | None = None
    account: str | None = None
    themes: bool = False

    @property
    def carried(self) -> list[str]:
        """Input columns copied to the output, in output order."""
        return list(dict.fromkeys(c for c in (self.id, self.time, self.account) if c))

    def output_name(self, column: str) -> str:
        """The output name of an input column: its own, unless a result column
        already has it (``language`` becomes ``input_language``)."""
        taken = set(result_names(themes=self.themes)) | {"row"}
        return f"input_{column}" if column in taken else column

    def output_columns(self) -> list[str]:
        """All output columns, in order."""
        first = [self.output_name(c) for c in self.carried]
        if self.id is None:
            first.insert(0, "row")
        return [*first, *result_names(themes=self.themes)]


# Unicode categories that show nothing on their own: format (zero-width space,
# joiners, BOM), control, separators, and marks that combine with a character
# before them (a lone accent, a variation selector); and the blank letters that
# are no category of their own (Hangul fillers, the blank braille pattern).
_INVISIBLE = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def check_text(
    value: object, *, max_chars: int, encoding: str | None
) -> tuple[str | None, str | None, str | None]:
    """Check one text value.

    Returns:
        ``(text, None, None)`` for a usable text, else ``(None, code, message)``.
    """
    if isinstance(value, RecordProblem):
        return None, value.code, value.message
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, "missing_text", "no text: the cell is empty, null or NaN"
    if not isinstance(value, str):
        shown = _shown(value)
        return None, "invalid_type", f"expected text, got {kind_of(value)} ({shown})"
    stripped = value.strip()
    if stripped.lower() in _PLACEHOLDERS:
        return None, "missing_text", f"no text: the cell holds {stripped!r}"
    if not stripped or all(
        c in _BLANK_LETTERS or unicodedata.category(c) in _INVISIBLE for c in stripped
    ):
        return (
            None,
            "empty_text",
            "the text is empty or only whitespace and invisible characters",
        )
    bad = _SURROGATE.search(value)
    if bad is not None:
        where = f"at character {bad.start():,}"
        codec = encoding or "UTF-8"
        return None, "undecodable", f"bytes {where} are not valid {codec}"
    if len(value) > max_chars:
        return (
            None,
            "text_too_long",
            f"the text is {len(value):,} characters; the limit is {max_chars:,} "
            "(--max-chars)",
        )
    return value, None, None


def _shown(value: object) -> str:
    # As the export holds it: JSON for objects and lists, else the plain value.
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a float NaN inside a list, and the like
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def prepare(
    chunk: RawChunk, layout: Layout, *, max_chars: int, encoding: str | None
) -> pa.Table:
    """Build the scorer's input table from a chunk of records.

    Columns: ``__row`` (record number from 0), the carried columns under their
    output names (and ``row`` when there is no id column), ``__text`` (null for a
    bad row), ``error`` and ``error_message``.
    """
    import pyarrow as pa

    checked = [
        check_text(v, max_chars=max_chars, encoding=encoding) for v in chunk.texts
    ]
    n = len(checked)
    first = chunk.first_row
    columns: dict[str, pa.Array] = {ROW: pa.array(range(first, first + n), pa.int64())}
    if layout.id is None:
        columns["row"] = pa.array(range(first + 1, first + n + 1), pa.int64())
    for name in layout.carried:
        columns[layout.output_name(name)] = _array(chunk.values[name])
    columns[TEXT] = pa.array([c[0] for c in checked], pa.string())
    columns["error"] = pa.array([c[1] for c in checked], pa.string())
    columns["error_message"] = pa.array([c[2] for c in checked], pa.string())
    return pa.table(columns)


def _array(values: Sequence[str | None] | pa.Array) -> pa.Array:
    import pyarrow as pa

    if isinstance(values, pa.Array):
        return values
    return pa.array(values, pa.string())
