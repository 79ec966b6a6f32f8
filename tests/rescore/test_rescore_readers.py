"""Reading exports: formats, encodings, delimiters, and which column is the text."""

from __future__ import annotations

import codecs
import io
import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from service.cli import app
from service.rescore import RescoreOptions, rescore
from service.rescore.errors import ColumnError, InputFileError
from service.rescore.job import resolve_layout
from service.rescore.readers import RecordProblem, iter_chunks, open_source
from service.rescore.sniff import choose_id_column, data_like_header, sniff_delimiter

ROWS = [
    ("r1", "Café crème was great, thanks!", "2024-01-02"),
    ("r2", "The export failed again;\nsecond line of the same review", "2024-01-03"),
    ("r3", 'She said "never again" and left', "2024-01-04"),
]


def _delimited(delimiter: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    lines = [delimiter.join(["id", "content", "created"])]
    lines += [delimiter.join(quote(v) for v in row) for row in ROWS]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (codecs.BOM_UTF8 if bom else b"") + data


def _read_all(path: Path, **kwargs: str) -> tuple[list[object], list[object]]:
    source = open_source(path, **kwargs)
    texts: list[object] = []
    ids: list[object] = []
    for chunk in iter_chunks(source, "content", ["id"], size=2):
        texts += chunk.texts
        ids += list(chunk.values["id"])
    return texts, ids


@pytest.mark.parametrize(
    ("name", "data", "delimiter", "encoding"),
    [
        ("comma.csv", _delimited(","), ",", "utf-8"),
        ("bom.csv", _delimited(",", bom=True), ",", "utf-8-sig"),
        ("semicolon.csv", _delimited(";"), ";", "utf-8"),
        ("tabs.tsv", _delimited("\t"), "\t", "utf-8"),
        ("tabs_no_suffix.txt", _delimited("\t"), "\t", "utf-8"),
        ("pipe.csv", _delimited("|"), "|", "utf-8"),
        (
            "excel.txt",
            codecs.BOM_UTF16_LE + _delimited("\t", "utf-16-le"),
            "\t",
            "utf-16",
        ),
    ],
)
def test_open_source_reads_delimited_dialects(
    tmp_path: Path, name: str, data: bytes, delimiter: str, encoding: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    source = open_source(path)
    assert (source.format, source.delimiter, source.encoding) == (
        "delimited",
        delimiter,
        encoding,
    )
    assert source.columns == ("id", "content", "created")
    texts, ids = _read_all(path)
    assert texts == [r[1] for r in ROWS]  # quoted newline and quotes kept
    assert ids == ["r1", "r2", "r3"]


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_open_source_detects_a_legacy_encoding(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "legacy.csv"
    rows = [("1", "Très déçu par le délai, aucune réponse à mes e-mails")] * 30
    rows.append(("2", "Garçon, où est la facture ? Ça coûte cher."))
    text = "id,content\n" + "".join(f'{i},"{t}"\n' for i, t in rows)
    path.write_bytes(text.encode(codec))
    texts, _ = _read_all(path)
    assert texts == [t for _, t in rows]


def test_open_source_uses_the_named_encoding(tmp_path: Path) -> None:
    path = tmp_path / "named.csv"
    path.write_bytes("id,content\n1,naïve façade €5\n".encode("cp1252"))
    texts, _ = _read_all(path, encoding="cp1252")
    assert texts == ["naïve façade €5"]


def test_open_source_refuses_an_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,content\n1,hello\n")
    with pytest.raises(InputFileError) as caught:
        open_source(path, encoding="klingon-8")
    assert str(caught.value) == (
        "unknown encoding 'klingon-8'; use a Python codec name such as 'utf-8', "
        "'cp1252' or 'latin-1'"
    )


def test_open_source_reads_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    records = [{"id": i, "content": t, "created": c} for i, t, c in ROWS]
    lines = [json.dumps(r) for r in records]
    path.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n")
    source = open_source(path)
    assert source.format == "jsonl"
    texts, ids = _read_all(path)
    assert texts == [r[1] for r in ROWS]
    assert ids == ["r1", "r2", "r3"]


def test_iter_chunks_reads_parquet_from_any_row(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    table = pa.table(
        {"id": list(range(10)), "content": [f"text {i}" for i in range(10)]}
    )
    pq.write_table(table, path, row_group_size=3)
    source = open_source(path)
    assert (source.format, source.total_rows) == ("parquet", 10)
    chunks = list(iter_chunks(source, "content", ["id"], start=4, size=4))
    assert [c.first_row for c in chunks] == [4, 8]
    assert [t for c in chunks for t in c.texts] == [f"text {i}" for i in range(4, 10)]
    ids = chunks[0].values["id"]
    assert isinstance(ids, pa.Array)
    assert ids.type == pa.int64()  # Parquet keeps the id's type


def test_iter_chunks_starts_delimited_text_at_any_record(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "id,content\n" + "".join(f'{i},"line {i}\nmore"\n' for i in range(7))
    )
    source = open_source(path)
    chunks = list(iter_chunks(source, "content", ["id"], start=3, size=3))
    assert [c.first_row for c in chunks] == [3, 6]
    assert chunks[0].values["id"] == ["3", "4", "5"]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["reviewId", "content", "score"], "content"),
        (["ID", "Comment", "Stars"], "Comment"),
        (["key", "what they wrote", "score"], "what they wrote"),  # reads as prose
    ],
)
def test_resolve_layout_finds_an_obvious_text_column(
    tmp_path: Path, columns: list[str], expected: str
) -> None:
    path = tmp_path / "a.csv"
    rows = [f"{i},The app keeps crashing when I open reports {i},5" for i in range(5)]
    path.write_text(",".join(columns) + "\n" + "\n".join(rows) + "\n")
    source = open_source(path)
    layout = resolve_layout(
        source, RescoreOptions(input=path, output=tmp_path / "o.csv")
    )
    assert layout.text == expected


def test_resolve_layout_lists_the_columns_when_the_text_is_ambiguous(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "id,title,details\n1,Login broken since update,It fails every single time\n"
    )
    source = open_source(path)
    with pytest.raises(ColumnError) as caught:
        resolve_layout(source, RescoreOptions(input=path, output=tmp_path / "o.csv"))
    assert str(caught.value) == (
        f"{path}: cannot tell which column holds the text: several columns could "
        "hold it ('title', 'details'). Name it with --text-column; the columns are "
        "'id', 'title', 'details'"
    )
    assert caught.value.columns == ("id", "title", "details")


def test_cli_rescore_ambiguous_text_column_fails_listing_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,title,details\n1,Login broken since update,It fails again\n")
    result = CliRunner().invoke(
        app, ["rescore", str(path), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 1
    assert "Name it with --text-column; the columns are 'id', 'title', 'details'" in (
        result.stderr
    )


def test_resolve_layout_names_a_missing_column_and_a_close_one(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("reviewId,content\n1,hello there\n")
    options = RescoreOptions(
        input=path, output=tmp_path / "o.csv", text_column="contnet"
    )
    with pytest.raises(ColumnError) as caught:
        resolve_layout(open_source(path), options)
    assert str(caught.value) == (
        f"{path}: no column 'contnet' (--text-column); the columns are 'reviewId', "
        "'content'. Did you mean 'content'?"
    )


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["reviewId", "content"], "reviewId"),
        (["review_id", "content"], "review_id"),
        (["id", "content"], "id"),
        (["paid", "content"], None),
        (["id", "ticket_id", "content"], None),  # two candidates: number the rows
    ],
)
def test_choose_id_column(columns: list[str], expected: str | None) -> None:
    assert choose_id_column(columns, exclude=["content"]) == expected


def test_sniff_delimiter_prefers_the_steady_table() -> None:
    sample = "a;b;c\n1;x, y;3\n2;z;4\n"
    assert sniff_delimiter(sample) == ";"


def test_open_source_refuses_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('[{"text": "hi"}]')
    with pytest.raises(InputFileError, match="a JSON array is not supported"):
        open_source(path)


def test_open_source_says_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        open_source(tmp_path / "nope.csv")
    assert str(caught.value) == f"{tmp_path / 'nope.csv'}: no such file"


def test_unquoted_delimiters_in_a_last_text_column_stay_in_the_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "id,content\n1,I love it, but billing is terrible\n2,fine\n3,trailing,\n"
    )
    texts, ids = _read_all(path)

    assert ids == ["1", "2", "3"]
    assert texts == ["I love it, but billing is terrible", "fine", "trailing"]


def test_a_row_wider_than_the_header_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "id,content,created\n1,I love it, but billing is terrible,2024-01-02\n"
        "2,fine,2024-01-03\n3,trailing,2024-01-04,\n"
    )
    texts, ids = _read_all(path)

    assert ids == ["1", "2", "3"]  # a bad record keeps its first cell
    problem = texts[0]
    assert isinstance(problem, RecordProblem) and problem.code == "invalid_record"
    assert problem.message == (
        "line 2: 4 fields where the header has 3; a text holding the delimiter "
        "(',') must be quoted when it is not the last column"
    )
    assert texts[1:] == ["fine", "trailing"]  # an empty trailing cell is no harm


def test_a_quote_that_never_closes_is_one_bad_record_not_silence(
    tmp_path: Path,
) -> None:
    path = tmp_path / "unterminated.csv"
    path.write_text('id,content\n1,"ok one"\n2,"He said ""hi"" and left\n3,third\n')
    texts, ids = _read_all(path)

    assert ids == ["1", "2", "3"]
    assert texts[0] == "ok one" and texts[2] == "third"
    problem = texts[1]
    assert isinstance(problem, RecordProblem)
    assert problem.message == (
        "line 3: not valid CSV (a quoted field opened on this line never closes); "
        "the lines after it were read on their own; fix the quoting there"
    )


def test_a_quote_closed_lines_later_costs_only_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text(
        'id,content\n1,ok\n2,"opened here\n3,good\n4,"closed" late\n'
        '5,"two\nlines"\n6,fine\n'
    )
    texts, ids = _read_all(path)

    assert ids == ["1", "2", "3", "4", "5", "6"]
    assert [texts[0], texts[2], texts[4], texts[5]] == [
        "ok",
        "good",
        "two\nlines",
        "fine",
    ]
    first, second = texts[1], texts[3]
    assert isinstance(first, RecordProblem) and isinstance(second, RecordProblem)
    assert first.message.startswith(
        "line 3: not valid CSV (a quoted field opened on this line runs into line 5)"
    )
    assert second.message.startswith("line 5: not valid CSV (")


def test_a_quoted_field_over_the_line_limit_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.rescore import readers

    monkeypatch.setattr(readers, "_RECORD_MAX_LINES", 5)
    path = tmp_path / "long.csv"
    path.write_text('id,content\n1,"' + "line\n" * 8 + '"\n2,after\n')
    texts, ids = _read_all(path)

    problem = texts[0]
    assert isinstance(problem, RecordProblem)
    assert problem.message.startswith("line 2: not valid CSV (a quoted field runs over")
    assert texts[-1] == "after" and ids[-1] == "2"


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("book.xlsx", b"PK\x03\x04rest", "a ZIP archive"),
        ("export.csv", b"PK\x03\x04rest", "a ZIP archive"),
        ("export.csv.gz", b"\x1f\x8b\x08rest", "a gzip-compressed file"),
    ],
)
def test_an_archive_given_as_the_export_is_named(
    tmp_path: Path, name: str, head: bytes, kind: str
) -> None:
    path = tmp_path / name
    path.write_bytes(head + bytes(range(256)))
    with pytest.raises(InputFileError, match=f"this is {kind}") as caught:
        open_source(path)
    assert "save or extract it as CSV, JSON Lines or Parquet first" in str(caught.value)


def test_a_small_utf8_file_with_one_broken_byte_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "emoji.csv"
    path.write_bytes(
        "id,content\n1,I am so angry 😡 at this\n".encode()
        + b"2,Broken \xff bytes here\n"
        + "3,Love it 😍\n".encode()
    )
    assert open_source(path).encoding == "utf-8"


@pytest.mark.parametrize("bom", [False, True])
def test_an_excel_separator_line_sets_the_delimiter_and_is_skipped(
    tmp_path: Path, bom: bool
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        (codecs.BOM_UTF8 if bom else b"")
        + b"sep=;\r\nid;content\r\n1;Fine, but slow\r\n"
        + b'2;"x;y\r\nz"\r\n3;a;b\r\n4;ok\r\n'
    )
    source = open_source(path)
    assert (source.delimiter, source.columns, source.preamble_lines) == (
        ";",
        ("id", "content"),
        1,
    )
    texts, ids = _read_all(path)
    assert ids == ["1", "2", "3", "4"]
    assert texts == ["Fine, but slow", "x;y\r\nz", "a;b", "ok"]


def test_an_excel_separator_line_counts_in_the_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("sep=,\nid,content,created\n1,one, two,2024-01-02\n")
    texts, _ = _read_all(path)
    problem = texts[0]
    assert isinstance(problem, RecordProblem)
    assert problem.message.startswith("line 3: 4 fields where the header has 3")


def test_repeated_and_blank_column_names_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("id,comment,,comment\n1,a,b,c\n")
    assert open_source(path).columns == ("id", "comment", "column_3", "comment_4")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_detected(
    tmp_path: Path, codec: str
) -> None:
    path = tmp_path / "no_bom.csv"
    path.write_bytes(_delimited(",", codec))
    texts, ids = _read_all(path)
    assert open_source(path).encoding == codec
    assert ids == ["r1", "r2", "r3"]
    assert texts == [text for _, text, _ in ROWS]


def test_a_few_junk_bytes_in_a_small_file_are_row_errors_not_a_refusal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(b"id,content\n1,hello\n2,\x00\x01\xff\xfe bad\n3,ok fine\n")
    assert open_source(path).encoding == "utf-8"
    texts, ids = _read_all(path)
    assert ids == ["1", "2", "3"]
    assert texts[0] == "hello" and texts[2] == "ok fine"
    assert "\udcff" in str(texts[1])  # kept as a marker; rows.py flags the row


def test_a_file_without_a_header_is_read_whole_with_no_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("The export keeps failing on me\nGreat support team\n")
    source = open_source(path, header=False)
    assert source.columns == ("column_1",)
    texts = [t for c in iter_chunks(source, "column_1") for t in c.texts]
    assert texts == ["The export keeps failing on me", "Great support team"]


_UUID = "9b2f7c1e-4d3a-4b8e-9f00-123456789abc"


@pytest.mark.parametrize(
    ("columns", "found"),
    [
        (["id", "comment", "created_at", "NPS score (0-10)"], None),
        (["very annoying app to work with", "x"], "very annoying app to work with"),
        (["42", "good app"], "42"),
        (["2024-01-02T10:00:00Z", "ok"], "2024-01-02T10:00:00Z"),
        ([_UUID, "ok"], _UUID),
    ],
)
def test_data_like_header(columns: list[str], found: str | None) -> None:
    assert data_like_header(columns) == found


def test_rescore_without_a_header_hints_at_no_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("very annoying app to work with\nGreat support team\nok\n")
    options = RescoreOptions(input=path, output=tmp_path / "out.parquet", workers=1)
    with pytest.raises(ColumnError, match="without a header line, pass --no-header"):
        rescore(replace(options, text_column="text"))
    stream = io.StringIO()
    rescore(options, stream=stream)  # the lone column is the text
    assert "note: the column name 'very annoying app to work with' reads like" in (
        stream.getvalue()
    )
    result = rescore(replace(options, header=False, restart=True))
    assert result.summary.rows == 3
