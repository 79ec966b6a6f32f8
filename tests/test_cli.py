"""The feedback-miner command line, called in-process."""

from __future__ import annotations

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
