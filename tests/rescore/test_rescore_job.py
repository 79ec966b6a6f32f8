"""The rescoring job end to end on small exports: outputs, bad rows, reports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlp.analysis import Analyzer
from nlp.labels import CS_VIEW, EMOTIONS
from service.cli import app
from service.rescore import (
    RescoreError,
    RescoreOptions,
    ResumeError,
    format_summary,
    rescore,
)
from service.rescore.checkpoint import state_folder

REVIEWS = [
    "Thank you so much, the new dashboard is wonderful!",
    "The export has failed three times today and nobody answers my tickets.",
    "It works.",
    "I am confused about how the billing cycle is calculated.",
    "Great support team, they fixed my issue within an hour.",
    "Terrible update, everything is slower and the sync is broken.",
    "Pretty good overall but the mobile app crashes sometimes.",
    "Das ist eine sehr schlechte Anwendung und sie stürzt ständig ab.",
]
# In the CSV output a null is an empty field and an empty string is "".
_NULLS_UNQUOTED = {"strings_can_be_null": True, "quoted_strings_can_be_null": False}


def _write_csv(
    path: Path, rows: list[tuple[str, str]], header=("review_id", "content")
):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _run(tmp_path: Path, source: Path, out: str = "out.parquet", **kwargs) -> tuple:
    kwargs.setdefault("workers", 1)  # one process: quicker to start in tests
    options = RescoreOptions(input=source, output=tmp_path / out, quiet=True, **kwargs)
    return options, rescore(options)


def test_rescore_writes_every_row_with_the_analysis(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [(f"id-{i}", t) for i, t in enumerate(REVIEWS)])
    options, result = _run(tmp_path, source, batch_size=3, checkpoint_rows=4)
    table = pq.read_table(options.output)
    assert table.column_names[:4] == ["review_id", "status", "error", "error_message"]
    assert table.column("review_id").to_pylist() == [f"id-{i}" for i in range(8)]
    assert table.schema.field("polarity_score").type == pa.float64()
    assert {f"emotion_{e}" for e in EMOTIONS} <= set(table.column_names)
    assert {f"cs_{e}" for e in CS_VIEW} <= set(table.column_names)
    assert table.column_names[-1] == "model_version"
    # Each row equals a direct call of the analyzer.
    rows = table.to_pylist()
    for row, analysis in zip(rows, analyzer.analyze_many(REVIEWS), strict=True):
        assert row["status"] == analysis.status
        assert row["language"] == analysis.language
        assert row["model_version"] == analysis.model_version
        if analysis.polarity is None:
            assert row["polarity"] is None
            continue
        assert row["polarity"] == analysis.polarity.label
        assert row["polarity_score"] == pytest.approx(analysis.polarity.score, abs=1e-6)
        assert row["emotions"] == ",".join(analysis.labels)
        for name, score in analysis.cs_emotions.items():
            assert row[f"cs_{name}"] == pytest.approx(score, abs=1e-6)
    assert rows[-1]["status"] == "unsupported_language"
    assert result.summary.rows == 8
    assert not state_folder(options.output).exists()  # progress removed when done


def test_rescore_csv_output_matches_parquet_output(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [(f"id-{i}", t) for i, t in enumerate(REVIEWS)])
    parquet_options, _ = _run(tmp_path, source, out="out.parquet")
    csv_options, _ = _run(tmp_path, source, out="out.csv")
    from_parquet = pq.read_table(parquet_options.output)
    from_csv = pacsv.read_csv(
        csv_options.output,
        convert_options=pacsv.ConvertOptions(
            column_types=from_parquet.schema, **_NULLS_UNQUOTED
        ),
    )
    assert from_csv.column_names == from_parquet.column_names
    for name in from_parquet.column_names:
        assert (
            from_csv.column(name).to_pylist() == from_parquet.column(name).to_pylist()
        )


def test_rescore_in_worker_processes_equals_one_process(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    rows = [(f"id-{i}", f"{REVIEWS[i % 8]} ({i % 5})") for i in range(48)]
    rows[7] = ("id-7", "")
    _write_csv(source, rows)
    single, _ = _run(tmp_path, source, out="single.parquet", batch_size=8)
    several, _ = _run(tmp_path, source, out="several.parquet", batch_size=8, workers=2)
    assert pq.read_table(several.output).equals(pq.read_table(single.output))


def test_rescore_records_bad_rows_and_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    good = REVIEWS[0].encode()
    lines = [
        b"review_id,content",
        b"a," + good,
        b'b,""',
        b"c,   ",
        b"d,NaN",
        b"e,caf\xe9 is broken",  # Latin-1 byte in a UTF-8 file
        b"f," + b"x" * 300,
        b"g," + REVIEWS[1].encode(),
    ]
    source.write_bytes(b"\n".join(lines) + b"\n")
    options, result = _run(
        tmp_path, source, out="out.csv", encoding="utf-8", max_chars=200
    )
    table = pacsv.read_csv(
        options.output, convert_options=pacsv.ConvertOptions(**_NULLS_UNQUOTED)
    )
    errors = dict(
        zip(
            table.column("review_id").to_pylist(),
            table.column("error").to_pylist(),
            strict=True,
        )
    )
    assert errors == {
        "a": None,
        "b": "empty_text",
        "c": "empty_text",
        "d": "missing_text",
        "e": "undecodable",
        "f": "text_too_long",
        "g": None,
    }
    statuses = table.column("status").to_pylist()
    assert statuses == ["scored", "error", "error", "error", "error", "error", "scored"]
    with result.errors_report.open(encoding="utf-8") as f:
        report = list(csv.DictReader(f))
    assert [r["review_id"] for r in report] == ["b", "c", "d", "e", "f"]
    assert [r["row"] for r in report] == ["2", "3", "4", "5", "6"]
    assert report[3]["error_message"] == "bytes at character 3 are not valid utf-8"
    assert report[4]["error_message"] == (
        "the text is 300 characters; the limit is 200 (--max-chars)"
    )
    assert result.summary.errors == {
        "empty_text": 2,
        "missing_text": 1,
        "undecodable": 1,
        "text_too_long": 1,
    }


def test_rescore_detects_utf8_with_a_stray_byte_and_flags_the_row(
    tmp_path: Path,
) -> None:
    source = tmp_path / "mostly_utf8.csv"
    rows = [
        f"{i},Très bien, ça marche déjà à merveille {i}".encode() for i in range(10)
    ]
    rows.append(b"10,caf\xe9")
    source.write_bytes(b"id,content\n" + b"\n".join(rows) + b"\n")
    options, _ = _run(tmp_path, source)
    table = pq.read_table(options.output)
    assert table.column("error").to_pylist() == [None] * 10 + ["undecodable"]


def test_rescore_bad_rows_in_json_lines_and_parquet(tmp_path: Path) -> None:
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(
        '{"id": 1, "text": "Love it"}\n{"id": 2, "text": null}\nnot json\n'
        '{"id": 4, "text": NaN}\n{"id": 5, "text": {"a": 1}}\n{"id": 6}\n'
        '\n{"id": 8, "text": 12345}\n["a"]\n'
    )
    options, _ = _run(tmp_path, jsonl, out="jsonl.parquet")
    table = pq.read_table(options.output)
    assert table.column("id").to_pylist() == ["1", "2", None, "4", "5", "6", "8", None]
    assert table.column("error").to_pylist() == [
        None,
        "missing_text",
        "invalid_record",
        "missing_text",
        "invalid_type",
        "missing_text",
        "invalid_type",
        "invalid_record",
    ]
    messages = table.column("error_message").to_pylist()
    assert messages[2].startswith("line 3: not valid JSON: Expecting value")
    assert messages[4] == 'expected text, got an object ({"a": 1})'
    assert messages[6] == "expected text, got a number (12345)"
    assert messages[7] == "line 9: expected a JSON object, got a list"
    parquet = tmp_path / "bad.parquet"
    pq.write_table(
        pa.table({"id": [10, 11, 12], "text": ["Love it", None, " "]}), parquet
    )
    options, _ = _run(tmp_path, parquet, out="parquet.parquet")
    table = pq.read_table(options.output)
    assert table.schema.field("id").type == pa.int64()
    assert table.column("error").to_pylist() == [None, "missing_text", "empty_text"]
    numbers = tmp_path / "numbers.parquet"
    pq.write_table(pa.table({"id": [1, 2], "text": [1.5, None]}), numbers)
    options, _ = _run(tmp_path, numbers, out="numbers.out.parquet")
    table = pq.read_table(options.output)
    assert table.column("error").to_pylist() == ["invalid_type", "missing_text"]


def test_rescore_numbers_rows_without_an_id_column(tmp_path: Path) -> None:
    source = tmp_path / "plain.csv"
    _write_csv(source, [(t,) for t in REVIEWS[:3]], header=("comment",))
    options, _ = _run(tmp_path, source, out="out.parquet")
    table = pq.read_table(options.output)
    assert table.column_names[0] == "row"
    assert table.column("row").to_pylist() == [1, 2, 3]


def test_rescore_keeps_carried_columns_clear_of_result_names(tmp_path: Path) -> None:
    source = tmp_path / "carried.csv"
    _write_csv(
        source,
        [("1", REVIEWS[0], "2024-05-01", "acme")],
        header=("ticket_id", "body", "language", "account"),
    )
    options, _ = _run(
        tmp_path, source, time_column="language", account_column="account"
    )
    names = pq.read_table(options.output).column_names
    assert names[:3] == ["ticket_id", "input_language", "account"]


def test_rescore_writes_summary_and_html_report(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [(f"id-{i}", t) for i, t in enumerate(REVIEWS)] + [("x", "")])
    _, result = _run(tmp_path, source)
    summary = result.summary
    assert summary.rows == 9
    assert summary.error_rows == 1
    assert sum(summary.polarity.values()) == summary.scored
    assert summary.cs_emotions and "" not in summary.cs_emotions
    page = result.html_report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "Customer-success emotions" in page and "empty_text" in page
    assert result.html_report.name == "out.report.html"


def test_rescore_refuses_to_overwrite_or_resume_with_other_arguments(
    tmp_path: Path,
) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [(f"id-{i}", t) for i, t in enumerate(REVIEWS)])
    options, _ = _run(tmp_path, source)
    with pytest.raises(
        RescoreError, match=r"exists .* nothing was scored; pass --rest"
    ):
        rescore(options)
    state = state_folder(options.output)
    state.mkdir()
    fingerprint = {"input": "elsewhere.csv"}
    manifest = {"version": "rescore-manifest.v1", "fingerprint": fingerprint}
    (state / "manifest.json").write_text(json.dumps({**manifest, "parts": []}))
    with pytest.raises(ResumeError, match=r"differs: .*input.*--restart"):
        rescore(options)
    from dataclasses import replace

    result = rescore(replace(options, restart=True))
    assert result.summary.rows == len(REVIEWS)


def test_rescore_fits_themes_on_a_sample(tmp_path: Path) -> None:
    texts = [f"The invoice total is wrong again on order {i}" for i in range(20)]
    texts += [f"Login fails with a password error after update {i}" for i in range(20)]
    source = tmp_path / "themed.csv"
    _write_csv(source, [(str(i), t) for i, t in enumerate(texts)])
    options, result = _run(
        tmp_path, source, themes=True, theme_sample=30, min_cluster_size=5
    )
    table = pq.read_table(options.output)
    assert table.schema.field("theme").type == pa.int64()
    themes = table.column("theme").to_pylist()
    labels = table.column("theme_label").to_pylist()
    assert len(set(themes[:20])) == 1 and len(set(themes[20:])) == 1
    assert max(themes) >= 0
    pairs = zip(themes, labels, strict=True)
    assert all((label is None) == (theme == -1) for theme, label in pairs)
    assert sum(result.summary.themes.values()) == sum(t >= 0 for t in themes)
    saved = tmp_path / "out.themes.json"
    assert result.summary.outputs["theme model"] == str(saved)
    # Assigning the same export to the saved themes gives the same themes.
    again = RescoreOptions(
        input=source,
        output=tmp_path / "again.parquet",
        workers=1,
        quiet=True,
        themes=True,
        theme_model=saved,
    )
    rescore(again)
    assert pq.read_table(again.output).column("theme").to_pylist() == themes


def test_rescore_says_when_the_sample_is_too_small_for_themes(tmp_path: Path) -> None:
    source = tmp_path / "few.csv"
    _write_csv(source, [(str(i), t) for i, t in enumerate(REVIEWS[:4])])
    options = RescoreOptions(
        input=source, output=tmp_path / "out.parquet", workers=1, themes=True
    )
    stale = tmp_path / "out.themes.json"  # from an earlier run that found themes
    stale.write_text("{}")
    stream = io.StringIO()
    result = rescore(options, stream=stream)
    assert not stale.exists()
    assert result.summary.theme_note == (
        "none (fewer usable texts than --min-cluster-size 10); every row has theme -1"
    )
    assert "themes: none (fewer usable texts" in format_summary(result.summary)
    assert (
        "themes: none found in a sample of 4 texts (fewer usable texts than "
        "--min-cluster-size 10); every row gets theme -1"
    ) in stream.getvalue()
    themes = pq.read_table(options.output).column("theme").to_pylist()
    assert themes == [-1] * 4


def test_cli_rescore_prints_the_summary(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [(f"id-{i}", t) for i, t in enumerate(REVIEWS)])
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["rescore", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rows: 8 (7 scored, 1 unsupported language")
    assert "text column 'content', id column 'review_id'" in result.stderr
    assert out.exists() and out.stat().st_size > 0


def test_cli_rescore_refuses_an_unknown_output_format(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [("1", REVIEWS[0])])
    result = CliRunner().invoke(
        app, ["rescore", str(source), "--out", str(tmp_path / "out.xlsx")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: --out '{tmp_path / 'out.xlsx'}': cannot tell the output format "
        "from the suffix '.xlsx'; end the name in .parquet, .csv or .tsv"
    )


def test_rescore_never_writes_over_its_input_beside_the_output(tmp_path: Path) -> None:
    # Scoring the error report again after a fix: OUT.errors.csv is the input.
    source = tmp_path / "feedback.errors.csv"
    _write_csv(source, [("r1", REVIEWS[0])])
    before = source.read_bytes()

    with pytest.raises(RescoreError) as caught:
        _run(tmp_path, source, out="feedback.csv")

    assert str(caught.value) == (
        f"--out {str(tmp_path / 'feedback.csv')!r} would write {source}, which is "
        "the input file; choose another output path"
    )
    assert source.read_bytes() == before


def test_rescore_refuses_a_folder_as_the_output_before_scoring(
    tmp_path: Path,
) -> None:
    source = tmp_path / "in.csv"
    _write_csv(source, [("r1", REVIEWS[0])])
    (tmp_path / "out.csv").mkdir()

    with pytest.raises(RescoreError) as caught:
        _run(tmp_path, source, out="out.csv", restart=True)

    assert str(caught.value) == (
        f"--out: {tmp_path / 'out.csv'} is a folder; give the path of the output file"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_rescore_refuses_ray_options_without_the_ray_engine(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    _write_csv(source, [("1", REVIEWS[0])])
    options = RescoreOptions(
        input=source, output=tmp_path / "out.parquet", ray_address="auto", ray_actors=3
    )
    with pytest.raises(RescoreError) as caught:
        rescore(options)
    assert str(caught.value) == (
        "--ray-address and --ray-actors apply to --engine ray only, and the engine "
        "is 'local'; add --engine ray or leave them out"
    )
    assert not options.output.exists()


def test_rescore_notes_options_that_do_not_apply_to_the_input(tmp_path: Path) -> None:
    source = tmp_path / "reviews.parquet"
    pq.write_table(pa.table({"text": REVIEWS[:2]}), source)
    options = RescoreOptions(
        input=source,
        output=tmp_path / "out.parquet",
        workers=1,
        encoding="cp1252",
        delimiter=";",
    )
    stream = io.StringIO()
    rescore(options, stream=stream)
    said = stream.getvalue()
    assert "note: --encoding does not apply to Parquet input and is ignored" in said
    assert "note: --delimiter does not apply to Parquet input and is ignored" in said
