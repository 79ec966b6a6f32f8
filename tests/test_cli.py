"""The feedback-miner command line, called in-process."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
runner = CliRunner()


def test_cli_analyze_prints_json() -> None:
    result = runner.invoke(app, ["analyze", "Thanks, this is great!"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "scored"
    assert body["polarity"]["label"] == "positive"


def test_cli_analyze_invalid_utf8_file_fails_in_one_line() -> None:
    result = runner.invoke(
        app, ["analyze", "--file", str(FIXTURES / "invalid_utf8.txt")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {FIXTURES / 'invalid_utf8.txt'}: not valid UTF-8 at byte 3; "
        "re-encode the file as UTF-8"
    )


def test_cli_analyze_needs_text_or_file() -> None:
    result = runner.invoke(app, ["analyze"])
    assert result.exit_code == 1
    assert "give either a TEXT argument or --file PATH" in result.stderr


def test_cli_evaluate_emotions_prints_the_named_figures() -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "emotions",
            "--data",
            str(FIXTURES / "goemotions_sample.tsv"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    for key in (
        "macro_f1",
        "micro_f1",
        "ekman_macro_f1",
        "sentiment_macro_f1",
        "cs_macro_f1",
    ):
        assert 0.0 <= body[key] <= 1.0
    assert body["n"] == 12
    assert set(body["per_label"]["gratitude"]) == {
        "precision",
        "recall",
        "f1",
        "support",
    }
    assert body["per_label"]["gratitude"]["support"] == 1


def test_cli_evaluate_polarity_on_a_labelled_csv() -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "polarity",
            "--data",
            str(FIXTURES / "polarity_sample.csv"),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["n"] == 10
    assert body["accuracy"] >= 0.7
    assert set(body["confusion"]) == {"negative", "neutral", "positive"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label-column", "stars"], "column 'stars' not found"),
        (
            ["--label-map", "pos=great"],
            "label map entry 'pos=great': expected GOLD=POLARITY",
        ),
    ],
)
def test_cli_evaluate_polarity_explains_bad_options(
    args: list[str], message: str
) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "polarity",
            "--data",
            str(FIXTURES / "polarity_sample.csv"),
            *args,
        ],
    )
    assert result.exit_code == 1
    assert message in result.stderr


def test_cli_evaluate_missing_file_fails_cleanly() -> None:
    result = runner.invoke(app, ["evaluate", "emotions", "--data", "nope.tsv"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: nope.tsv: no such file"


def test_cli_tenants_create_prints_the_key_once(tmp_path: Path) -> None:
    from service.storage.keys import authenticate
    from service.storage.session import create_db_engine, create_session_factory

    url = f"sqlite:///{tmp_path / 'fm.db'}"
    command = ["tenants", "create", "acme", "--scopes", "ingest,read,admin"]
    result = runner.invoke(app, [*command, "--database-url", url])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("fm_") and "\n" not in key
    assert "store the API key now, it is not shown again" in result.stderr
    engine = create_db_engine(url)
    with create_session_factory(engine)() as session:
        stored = authenticate(session, key)
        assert stored is not None
        assert sorted(stored.scopes) == ["admin", "ingest", "read"]
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--scopes", "ingest,write"],
            "error: expected scopes among ['admin', 'ingest', 'read'], got 'write'; "
            "pass e.g. --scopes ingest --scopes read",
        ),
        (["--scopes", ","], "error: expected at least one scope, got none"),
    ],
)
def test_cli_tenants_create_bad_scopes_fail_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'fm.db'}"
    result = runner.invoke(
        app, ["tenants", "create", "acme", *args, "--database-url", url]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == message


def test_cli_tenants_create_same_name_twice_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fm.db'}"
    command = ["tenants", "create", "acme", "--database-url", url]
    assert runner.invoke(app, command).exit_code == 0
    again = runner.invoke(app, command)
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        "error: a tenant named 'acme' exists already; choose another name"
    )


def _export(tmp_path: Path) -> Path:
    topics = {
        "billing": "The invoice for {} was wrong and we were charged twice",
        "login": "I cannot log in to {}, the password reset email never arrives",
        "export": "The CSV export of {} fails with a timeout every night",
    }
    lines = ["id,comment,created"]
    row = 0
    for template in topics.values():
        for n in range(14):
            row += 1
            lines.append(
                f'{row},"{template.format(f"workspace {n}")}",2026-10-{n + 1:02d}'
            )
    lines += [f"{row + 1},,2026-10-03", f"{row + 2},nan,2026-10-04"]
    lines.append(f'{row + 3},"Refund please, invoice wrong",not a date')
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_themes_reports_themes_and_bad_rows(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "themes",
            str(_export(tmp_path)),
            "--text-column",
            "comment",
            "--time-column",
            "created",
            "--min-cluster-size",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "themed"
    assert len(report["themes"]) >= 2
    assert all(t["label"] and t["quotes"] for t in report["themes"])
    assert sum(sum(t["weekly_counts"].values()) for t in report["themes"]) > 0
    assert [(p["row"], p["field"]) for p in report["problems"]] == [
        (43, "comment"),
        (44, "comment"),
        (45, "created"),
    ]


def test_cli_themes_names_a_missing_column(tmp_path: Path) -> None:
    export = _export(tmp_path)
    result = runner.invoke(app, ["themes", str(export), "--text-column", "body"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {export}: no column 'body' (--text-column); the columns are "
        "'id', 'comment', 'created'.\n"
    )


def test_cli_themes_lists_undecodable_rows_under_a_named_encoding(
    tmp_path: Path,
) -> None:
    export = tmp_path / "bad.csv"
    export.write_bytes(b"comment\nfine text\ncaf\xe9 broken \xff\xfe bytes\n")
    result = runner.invoke(
        app, ["themes", str(export), "--text-column", "comment", "--encoding", "utf-8"]
    )
    assert result.exit_code == 0, result.output
    problems = json.loads(result.stdout)["problems"]
    assert problems == [
        {
            "row": 2,
            "field": "comment",
            "reason": "undecodable: bytes at character 3 are not valid utf-8",
        }
    ]


def _many(topic: str, n: int = 12) -> list[str]:
    return [f"The {topic} of workspace {i} is broken again" for i in range(n)]


def test_cli_themes_reads_what_rescore_reads(tmp_path: Path) -> None:
    # A semicolon-separated Windows-1252 export with a broken JSON Lines twin and
    # a Parquet twin: all three give the same texts.
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = _many("café invoice") + _many("export")
    semicolon = tmp_path / "excel.csv"
    semicolon.write_bytes(
        ("id;comment\n" + "".join(f"{i};{t}\n" for i, t in enumerate(texts))).encode(
            "cp1252"
        )
    )
    jsonl = tmp_path / "export.jsonl"
    lines = [json.dumps({"comment": t}) for t in texts]
    jsonl.write_text("\n".join([*lines, '{"comment": "cut']) + "\n")
    parquet = tmp_path / "export.parquet"
    pq.write_table(pa.table({"comment": texts}), parquet)

    reports = []
    for path in (semicolon, jsonl, parquet):
        command = ["themes", str(path), "--text-column", "comment"]
        result = runner.invoke(app, [*command, "--min-cluster-size", "5"])
        assert result.exit_code == 0, (path, result.output)
        reports.append(json.loads(result.stdout))
    assert [r["texts"] for r in reports] == [len(texts)] * 3
    assert reports[0]["problems"] == reports[2]["problems"] == []
    assert [(p["row"], p["field"]) for p in reports[1]["problems"]] == [
        (len(texts) + 1, "record")
    ]
    assert reports[1]["problems"][0]["reason"].startswith(
        f"invalid_record: line {len(texts) + 1}: not valid JSON: Unterminated string "
        "starting at column 13"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--out", "{input}"], "--out names the input file; choose another path"),
        (["--html", "{input}"], "--html names the input file; choose another path"),
        (
            ["--html", "{tmp}/missing/report.html"],
            "--html: the folder {tmp}/missing does not exist",
        ),
        (
            ["--out", "{tmp}/missing/report.json"],
            "--out: the folder {tmp}/missing does not exist",
        ),
        (["--out", "{tmp}"], "--out: {tmp} is a folder; give the path of a file"),
        (
            ["--out", "{tmp}/r.x", "--html", "{tmp}/r.x"],
            "--out and --html name the same file; give each its own path",
        ),
    ],
)
def test_cli_themes_checks_its_output_paths_before_the_fit(
    tmp_path: Path, options: list[str], message: str
) -> None:
    export = _export(tmp_path)
    before = export.read_bytes()
    filled = [o.format(input=export, tmp=tmp_path) for o in options]

    result = runner.invoke(
        app, ["themes", str(export), "--text-column", "comment", *filled]
    )

    assert result.exit_code == 1
    assert result.stderr == f"error: {message.format(tmp=tmp_path)}\n"
    assert export.read_bytes() == before


def _trend_export(tmp_path: Path) -> Path:
    # Billing and export run from August; login problems start in October.
    start = dt.date(2026, 8, 3)
    rows = ["comment,created"]
    for n in range(14):
        for topic, day in (
            ("The invoice for workspace {} was wrong, charged twice", 5 * n),
            ("The CSV export of workspace {} fails with a timeout", 5 * n + 2),
            ("I cannot log in to workspace {}, the reset email never comes", 60 + n),
        ):
            when = start + dt.timedelta(days=day)
            rows.append(f'"{topic.format(n)}",{when.isoformat()}')
    path = tmp_path / "trend.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_themes_writes_the_html_report_and_the_json(tmp_path: Path) -> None:
    page, out = tmp_path / "report.html", tmp_path / "report.json"

    result = runner.invoke(
        app,
        [
            "themes",
            str(_trend_export(tmp_path)),
            "--text-column",
            "comment",
            "--time-column",
            "created",
            "--min-cluster-size",
            "5",
            "--html",
            str(page),
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"{out}, {page}")
    report = json.loads(out.read_text(encoding="utf-8"))
    themes = {t["terms"][0]: t for t in report["themes"]}
    assert (report["window_days"], report["window_end"]) == (
        28,
        "2026-10-15T00:00:00+00:00",
    )
    emerging = [t["label"] for t in themes.values() if t["emerging"]]
    assert len(emerging) == 1 and "log" in emerging[0], emerging
    for theme in themes.values():
        assert theme["trend"]["current_total"] + theme["trend"]["baseline_total"] == 42
        assert set(theme["polarity"]) <= {"negative", "neutral", "positive", "mixed"}
        assert 0 < sum(theme["polarity"].values()) <= 1.0 + 1e-6
        assert all(0 < share <= 1 for share in theme["cs_emotions"].values())
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for chart in ("chart-sizes", "chart-trends", "chart-emotions", "chart-polarity"):
        assert f'id="{chart}"' in text
    assert "<script src=" not in text  # plotly.js is inlined: the file works offline
    assert "Themes of trend.csv" in text
    assert html.escape(report["themes"][0]["quotes"][0]) in text


def test_cli_themes_makes_no_emerging_call_without_earlier_data(
    tmp_path: Path,
) -> None:
    out = tmp_path / "report.json"

    result = runner.invoke(
        app,
        [
            "themes",
            str(_export(tmp_path)),
            "--text-column",
            "comment",
            "--time-column",
            "created",
            "--min-cluster-size",
            "5",
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    # The export spans two weeks: all of it is in the window, nothing before.
    assert report["window_end"] == "2026-10-14T00:00:00+00:00"
    assert not any(t["emerging"] or t["trend"] for t in report["themes"])


def test_cli_themes_redacts_the_quotes(tmp_path: Path) -> None:
    export = tmp_path / "tickets.csv"
    rows = ["comment"] + [
        f'"The invoice for workspace {i} was charged twice, mail me at '
        f'client{i}@example.com or call 415-555-01{i:02d}"'
        for i in range(14)
    ]
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = runner.invoke(
        app,
        ["themes", str(export), "--text-column", "comment", "--min-cluster-size", "5"],
    )

    assert result.exit_code == 0, result.output
    quotes = [q for t in json.loads(result.stdout)["themes"] for q in t["quotes"]]
    assert quotes
    assert not any("@example.com" in q or "415-555" in q for q in quotes)
    assert all("<EMAIL_ADDRESS>" in q and "<PHONE_NUMBER>" in q for q in quotes)


def test_cli_themes_says_why_a_small_export_has_no_themes(tmp_path: Path) -> None:
    export = tmp_path / "tiny.csv"
    export.write_text("comment\nhello there\nbilling is broken\nok\n")
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["themes", str(export), "--text-column", "comment", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "0 themes (fewer usable texts than --min-cluster-size 10), 0 rows skipped: "
        f"{out}\n"
    )
    assert json.loads(out.read_text())["status"] == "too_few_texts"


def test_cli_themes_max_chars_is_an_option_it_names(tmp_path: Path) -> None:
    export = tmp_path / "long.csv"
    export.write_text("comment\n" + "word " * 30 + "\nshort one\n")
    result = runner.invoke(
        app, ["themes", str(export), "--text-column", "comment", "--max-chars", "100"]
    )
    assert result.exit_code == 0, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["row"] == 1
    assert problem["reason"] == (
        "text_too_long: the text is 150 characters; the limit is 100 (--max-chars)"
    )


def test_cli_themes_reads_a_file_without_a_header(tmp_path: Path) -> None:
    export = tmp_path / "plain.csv"
    export.write_text("very annoying app to work with\nGreat support team\n")
    missing = runner.invoke(app, ["themes", str(export), "--text-column", "text"])
    assert missing.exit_code == 1
    assert "without a header line, pass --no-header" in missing.stderr
    command = ["themes", str(export), "--text-column", "column_1", "--no-header"]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["texts"] == 2


def test_cli_themes_labels_and_terms_hold_no_redacted_name(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    rows = ["comment"] + [
        f'"John Smith from our team said the invoice export failed again ({i})"'
        for i in range(12)
    ]
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = runner.invoke(
        app,
        ["themes", str(export), "--text-column", "comment", "--min-cluster-size", "5"],
    )

    assert result.exit_code == 0, result.output
    [theme] = json.loads(result.stdout)["themes"]
    words = " ".join([theme["label"], *theme["terms"]]).lower()
    assert "john" not in words and "smith" not in words
    assert "person" not in words  # the placeholder is no term either
    assert all(q.startswith("<PERSON> from our team") for q in theme["quotes"])


def test_cli_themes_notes_reading_options_that_do_not_apply(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    export = tmp_path / "export.parquet"
    pq.write_table(pa.table({"comment": ["fine", "bad"]}), export)
    command = ["themes", str(export), "--text-column", "comment", "--delimiter", ";"]
    result = runner.invoke(app, [*command, "--no-header"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "note: --delimiter does not apply to Parquet input and is ignored",
        "note: --no-header does not apply to Parquet input and is ignored",
    ]


def test_cli_themes_saved_model_assigns_another_export_in_rescore(
    tmp_path: Path,
) -> None:
    import pyarrow.parquet as pq

    first, second = tmp_path / "march.csv", tmp_path / "april.csv"
    texts = _many("invoice total wrong") + _many("export to csv fails")
    first.write_text("comment\n" + "\n".join(texts) + "\n")
    second.write_text(
        "comment\nThe invoice total is wrong again\nExport to CSV fails\n"
    )
    model = tmp_path / "themes.json"
    out = tmp_path / "report.json"
    command = ["themes", str(first), "--text-column", "comment", "--out", str(out)]
    fitted = runner.invoke(app, [*command, "--save-model", str(model)])
    assert fitted.exit_code == 0, fitted.output
    assert fitted.stdout.strip().endswith(f"{out}, {model}")
    labels = {t["id"]: t["label"] for t in json.loads(out.read_text())["themes"]}

    scored = tmp_path / "april.scored.parquet"
    result = runner.invoke(
        app, ["rescore", str(second), "--out", str(scored), "--themes", str(model)]
    )
    assert result.exit_code == 0, result.output
    assert f"themes: {len(labels)} read from {model}" in result.stderr
    table = pq.read_table(scored)
    themes = table.column("theme").to_pylist()
    assert len(set(themes)) == 2 and min(themes) >= 0
    assert table.column("theme_label").to_pylist() == [labels[t] for t in themes]
    assert "theme model" not in result.stdout  # nothing fitted, nothing written


def test_cli_rescore_refuses_a_theme_model_that_is_not_one(tmp_path: Path) -> None:
    export = tmp_path / "reviews.csv"
    export.write_text("comment\nfine\n")
    bogus = tmp_path / "themes.json"
    bogus.write_text('{"format": "something else"}')
    out = str(tmp_path / "out.parquet")
    for value, message in [
        (str(tmp_path / "missing.json"), "expected 'fit' or a theme model file"),
        (str(bogus), "expected format 'feedback-miner-themes.v1', got 'something"),
    ]:
        result = runner.invoke(
            app, ["rescore", str(export), "--out", out, "--themes", value]
        )
        assert result.exit_code == 1
        assert message in result.stderr
        assert "Traceback" not in result.output
        assert not (tmp_path / "out.parquet.partial").exists()  # nothing written


def test_cli_rescore_refuses_a_theme_model_it_would_write_over(tmp_path: Path) -> None:
    export = tmp_path / "reviews.csv"
    export.write_text("comment\nfine\n")
    for out, model in [
        (tmp_path / "t.csv", tmp_path / "t.csv"),
        (tmp_path / "u.parquet", tmp_path / "u.themes.json"),
    ]:
        model.write_text("{}")
        command = ["rescore", str(export), "--out", str(out), "--themes", str(model)]
        result = runner.invoke(app, [*command, "--restart"])
        assert result.exit_code == 1
        assert "is a file this run writes" in result.stderr
        assert model.read_text() == "{}"
