"""The ``feedback-miner`` command line.

Each command is a thin wrapper over a plain function that returns data (see
``training.evaluate``, ``training.emotions``, ``nlp.analysis``), so tests and
notebooks call those functions directly. A failure prints one line to stderr and
exits with status 1; ``--verbose`` turns on DEBUG logging.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="feedback-miner",
    help="Emotion, sentiment and theme signals from customer feedback.",
    no_args_is_help=True,
    add_completion=False,
)
evaluate_app = typer.Typer(
    help="Score the shipped models on labelled data.", no_args_is_help=True
)
train_app = typer.Typer(
    help="Rebuild model artifacts from ../shared/data.", no_args_is_help=True
)
tenants_app = typer.Typer(
    help="Manage tenants and their API keys.", no_args_is_help=True
)
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(train_app, name="train")
app.add_typer(tenants_app, name="tenants")

logger = logging.getLogger("feedback_miner.cli")

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")]
Header = Annotated[
    bool,
    typer.Option(
        help="--no-header: CSV/TSV without a line of column names (they become "
        "column_1, column_2, ...)."
    ),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    verbose: Verbose = False,
) -> None:
    """Start the HTTP service; the database is migrated first."""
    import uvicorn

    from service.main import create_app

    _configure_logging(verbose)
    uvicorn.run(create_app(), host=host, port=port, log_config=None)


@tenants_app.command("create")
def tenants_create_command(
    name: Annotated[str, typer.Argument(help="The tenant's unique name.")],
    scopes: Annotated[
        list[str] | None,
        typer.Option(
            "--scopes",
            help="What the key may do: ingest, read, admin; comma-separated or "
            "repeated. Default: ingest,read.",
        ),
    ] = None,
    store_raw_text: Annotated[
        bool,
        typer.Option(help="Keep unredacted text beside the redacted one."),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database URL (default: FEEDBACK_MINER_DATABASE_URL)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Create a tenant and print its API key; the key is shown only this once."""
    from service.config import get_settings
    from service.errors import ServiceError
    from service.tenants import create_tenant_with_key, split_scopes

    _configure_logging(verbose)
    url = database_url or get_settings().resolved_database_url
    try:
        created = create_tenant_with_key(
            url,
            name,
            scopes=split_scopes(scopes or ["ingest,read"]),
            store_raw_text=store_raw_text,
        )
    except (ServiceError, ValueError) as e:
        _fail(str(e))
    if as_json:
        _print_json(
            {**dataclasses.asdict(created), "tenant_id": str(created.tenant_id)}
        )
        return
    typer.echo(
        f"created tenant {created.name!r} ({created.tenant_id}) with scopes "
        f"{', '.join(created.scopes)}; store the API key now, it is not shown again:",
        err=True,
    )
    typer.echo(created.api_key)


@app.command()
def analyze(
    text: Annotated[str | None, typer.Argument(help="Text to analyse.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the text from a UTF-8 file."),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Analyse one text and print the result as JSON."""
    from nlp.analysis import Analyzer
    from nlp.errors import NlpError

    _configure_logging(verbose)
    if (text is None) == (file is None):
        _fail("give either a TEXT argument or --file PATH, not both or neither")
    if file is not None:
        text = _read_text_file(file)
    assert text is not None  # narrowed by the check above
    try:
        analysis = Analyzer.load().analyze(text)
    except NlpError as e:
        _fail(str(e))
    _print_json(dataclasses.asdict(analysis))


@app.command()
def themes(
    file: Annotated[
        Path, typer.Argument(help="CSV/TSV, JSON Lines or Parquet export.")
    ],
    text_column: Annotated[str, typer.Option(help="Column of the texts.")] = "text",
    time_column: Annotated[
        str | None, typer.Option(help="Column of ISO 8601 times, for weekly counts.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding (default: detected).")
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(help="Field delimiter of CSV/TSV, e.g. ';' or 'tab' (sniffed)."),
    ] = None,
    min_cluster_size: Annotated[
        int, typer.Option(min=2, help="Fewest texts a theme may have.")
    ] = 10,
    max_chars: Annotated[
        int,
        typer.Option(
            min=1,
            max=200_000,
            help="Longer texts are listed as problems, not themed.",
        ),
    ] = 20_000,
    header: Header = True,
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON report here, not to stdout.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(help="Write the HTML report (charts, quotes) here, offline."),
    ] = None,
    save_model: Annotated[
        Path | None,
        typer.Option(
            help="Write the fitted themes here (JSON), to assign other exports to "
            "them with feedback-miner rescore --themes FILE."
        ),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Find the themes of an export; print or write a JSON and an HTML report."""
    from service.rescore.themes import no_themes_reason
    from service.theme_export import ExportError, read_export, theme_report
    from service.theme_report import render_theme_report

    _configure_logging(verbose)
    _check_report_paths(file, out=out, html=html, model=save_model)
    try:
        texts, times, problems = read_export(
            file,
            text_column=text_column,
            time_column=time_column,
            encoding=encoding,
            delimiter=delimiter,
            max_chars=max_chars,
            header=header,
        )
    except ExportError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _interrupted("nothing was written")
    from service.rescore.sniff import detect_format, unused_options

    fmt = detect_format(file)
    for note in unused_options(
        fmt, encoding=encoding, delimiter=delimiter, header=header
    ):
        typer.echo(note, err=True)
    try:
        report = theme_report(
            texts, times, min_cluster_size=min_cluster_size, save_model=save_model
        )
    except KeyboardInterrupt:
        _interrupted("nothing was written")
    report["problems"] = [dataclasses.asdict(p) for p in problems]
    if html is not None:
        page = render_theme_report(report, title=f"Themes of {file.name}")
        html.write_text(page, encoding="utf-8")
    if out is None and html is None:
        _print_json(report)
        return
    if out is not None:
        out.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    saved = save_model if save_model is not None and report["themes"] else None
    written = ", ".join(str(path) for path in (out, html, saved) if path is not None)
    skipped = len({p.row for p in problems if p.field != time_column})
    untimed = sum(1 for p in problems if p.field == time_column)
    times_note = f", {untimed} unreadable times (rows kept)" if untimed else ""
    status = report["status"]
    why = (
        "" if status == "themed" else f" ({no_themes_reason(status, min_cluster_size)})"
    )
    typer.echo(
        f"{len(report['themes'])} themes{why}, {skipped} rows skipped{times_note}: "
        f"{written}"
    )


def _check_report_paths(
    file: Path, *, out: Path | None, html: Path | None, model: Path | None = None
) -> None:
    # Checked before the fit, so that a bad path costs nothing and never replaces
    # the input.
    given = {"--out": out, "--html": html, "--save-model": model}
    for option, path in given.items():
        if path is None:
            continue
        if path.is_dir():
            _fail(f"{option}: {path} is a folder; give the path of a file")
        if not path.parent.is_dir():
            _fail(f"{option}: the folder {path.parent} does not exist")
        if path.exists() and file.exists() and path.samefile(file):
            _fail(f"{option} names the input file; choose another path")
    named = [(option, path.resolve()) for option, path in given.items() if path]
    for i, (option, path) in enumerate(named):
        for other, other_path in named[i + 1 :]:
            if path == other_path:
                _fail(
                    f"{option} and {other} name the same file; give each its own path"
                )


@evaluate_app.command("emotions")
def evaluate_emotions_command(
    data: Annotated[Path, typer.Option(help="GoEmotions-format TSV.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Score a GoEmotions-format TSV: 28-label, Ekman, sentiment and CS-view F1."""
    from nlp.analysis import Analyzer
    from training.errors import TrainingError
    from training.evaluate import evaluate_emotions

    _configure_logging(verbose)
    try:
        result = evaluate_emotions(data, Analyzer.load())
    except TrainingError as e:
        _fail(str(e))
    _report(
        result,
        as_json,
        keys=(
            "n",
            "macro_f1",
            "micro_f1",
            "ekman_macro_f1",
            "sentiment_macro_f1",
            "cs_macro_f1",
        ),
    )


@evaluate_app.command("polarity")
def evaluate_polarity_command(
    data: Annotated[Path, typer.Option(help="CSV with a header row.")],
    text_column: Annotated[
        str, typer.Option(help="Header of the text column.")
    ] = "text",
    label_column: Annotated[
        str, typer.Option(help="Header of the label column.")
    ] = "label",
    label_map: Annotated[
        str,
        typer.Option(help="Gold label to polarity, e.g. '1=negative,5=positive'."),
    ] = "negative=negative,neutral=neutral,positive=positive",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Score a CSV of texts with polarity labels: accuracy and macro-F1."""
    from nlp.analysis import Analyzer
    from training.errors import TrainingError
    from training.evaluate import evaluate_polarity, parse_label_map

    _configure_logging(verbose)
    try:
        result = evaluate_polarity(
            data,
            Analyzer.load(),
            text_column=text_column,
            label_column=label_column,
            label_map=parse_label_map(label_map),
        )
    except TrainingError as e:
        _fail(str(e))
    _report(result, as_json, keys=("n", "skipped", "accuracy", "macro_f1"))


@train_app.command("emotions")
def train_emotions_command(
    epochs: Annotated[int, typer.Option(min=1, help="Fine-tuning epochs.")] = 3,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Skip fine-tuning and export this state dict instead."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Artifact folder (default: the bundled one).")
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Fine-tune, quantise and calibrate the emotion artifact (~40 min, 2 cores)."""
    from training.emotions import BuildConfig, build_artifact
    from training.finetune import FinetuneConfig

    _configure_logging(verbose, default=logging.INFO)
    config = BuildConfig(
        checkpoint=str(checkpoint) if checkpoint else None,
        finetune=FinetuneConfig(epochs=epochs),
    )
    if out is not None:
        config.out_dir = str(out)
    metrics = build_artifact(config)
    _print_json(metrics["dev"])


@train_app.command("polarity")
def train_polarity_command(
    tune: Annotated[
        bool,
        typer.Option(
            "--tune", help="Pick the source weights on a split of the training parts."
        ),
    ] = False,
    version: Annotated[
        str | None,
        typer.Option(help="New model version (default: the old one, minor + 1)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Artifact folder (default: the bundled one).")
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Refit only the polarity head on the shipped encoder (~5 min, ~20 with --tune)."""
    from nlp.errors import NlpError
    from training.emotions import refit_polarity
    from training.errors import TrainingError

    _configure_logging(verbose, default=logging.INFO)
    try:
        report = refit_polarity(out, tune=tune, version=version)
    except (TrainingError, NlpError) as e:
        _fail(str(e))
    _print_json(report)


@evaluate_app.command("themes")
def evaluate_themes_command(
    data: Annotated[
        Path, typer.Option(help="CSV with a header row, or CLINC150 data.json.")
    ],
    text_column: Annotated[
        str, typer.Option(help="Header of the text column (CSV).")
    ] = "text",
    label_column: Annotated[
        str, typer.Option(help="Header of the gold theme column (CSV).")
    ] = "label",
    split: Annotated[str, typer.Option(help="Split of a JSON file.")] = "val",
    sample: Annotated[
        int, typer.Option(min=0, help="Texts drawn when there are more; 0 for all.")
    ] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the sample and model.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Fit themes on labelled texts: NMI and ARI against the gold groups
    (outliers count as one cluster), outlier share, label stop words, fit time."""
    from nlp.errors import NlpError
    from training.errors import TrainingError
    from training.themes_eval import evaluate_themes

    _configure_logging(verbose)
    try:
        result = evaluate_themes(
            data,
            text_column=text_column,
            label_column=label_column,
            split=split,
            sample=sample or None,
            seed=seed,
        )
    except (TrainingError, NlpError) as e:
        _fail(str(e))
    _report(
        result,
        as_json,
        keys=(
            "n",
            "gold_groups",
            "nmi",
            "ari",
            "themes",
            "outlier_share",
            "nmi_reduced",
            "ari_reduced",
            "outlier_share_reduced",
            "stop_word_share",
            "fit_seconds",
            "embed_seconds",
        ),
    )


@train_app.command("embedder")
def train_embedder_command(
    out: Annotated[
        Path | None, typer.Option(help="Artifact folder (default: the bundled one).")
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Export and quantise the sentence embedder artifact (~1 min, 2 cores)."""
    from training.embedder import EmbedderConfig, build_embedder

    _configure_logging(verbose, default=logging.INFO)
    config = EmbedderConfig()
    if out is not None:
        config.out_dir = str(out)
    _print_json(build_embedder(config))


@app.command("rescore")
def rescore_command(
    input_path: Annotated[
        Path,
        typer.Argument(metavar="INPUT", help="CSV/TSV, JSON Lines or Parquet export."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output: .parquet, .csv or .tsv.")
    ],
    text_column: Annotated[
        str | None, typer.Option(help="Column of the texts (found when obvious).")
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column of row ids (found when named like one, else rows "
            "are numbered from 1)."
        ),
    ] = None,
    time_column: Annotated[
        str | None, typer.Option(help="Time column, copied to the output.")
    ] = None,
    account_column: Annotated[
        str | None, typer.Option(help="Account column, copied to the output.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Input encoding, e.g. cp1252 (detected).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="Field delimiter, e.g. ';' or tab (sniffed).")
    ] = None,
    themes: Annotated[
        str | None,
        typer.Option(
            help="'fit': fit themes on a sample of the input and assign every row "
            "(the model is written as OUT.themes.json); or a theme model file "
            "(that, or feedback-miner themes --save-model) to assign rows to."
        ),
    ] = None,
    theme_sample: Annotated[
        int, typer.Option(min=100, help="Texts sampled to fit the themes.")
    ] = 20_000,
    min_cluster_size: Annotated[
        int, typer.Option(min=2, help="Fewest texts a theme may have.")
    ] = 10,
    max_chars: Annotated[
        int,
        typer.Option(min=1, max=200_000, help="Longer texts are recorded as errors."),
    ] = 20_000,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Texts per analyzer call.")
    ] = 1024,
    checkpoint_rows: Annotated[
        int, typer.Option(min=1, help="Rows per saved part (what a kill can cost).")
    ] = 16_384,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Scoring processes (default: one per core, ≤ 4)."),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Encoder threads per process or actor.")
    ] = None,
    engine: Annotated[str, typer.Option(help="'local' or 'ray'.")] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster: 'auto' or ray://HOST:10001 (default: local)."),
    ] = None,
    ray_actors: Annotated[
        int | None, typer.Option(min=1, help="Scoring actors on Ray.")
    ] = None,
    header: Header = True,
    restart: Annotated[
        bool, typer.Option(help="Discard saved progress and an existing output.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
    verbose: Verbose = False,
) -> None:
    """Score every row of an export; a killed run continues where it stopped."""
    from service.rescore import RescoreOptions

    _configure_logging(verbose)
    theme_model = None if themes in (None, "fit") else Path(themes)
    if theme_model is not None and not theme_model.is_file():
        what = "a folder" if theme_model.is_dir() else "no such file"
        _fail(
            f"--themes: expected 'fit' or a theme model file, got {themes!r} ({what})"
        )
    options = RescoreOptions(
        input=input_path,
        output=out,
        text_column=text_column,
        id_column=id_column,
        time_column=time_column,
        account_column=account_column,
        encoding=encoding,
        delimiter=delimiter,
        themes=themes is not None,
        theme_model=theme_model,
        theme_sample=theme_sample,
        min_cluster_size=min_cluster_size,
        max_chars=max_chars,
        batch_size=batch_size,
        checkpoint_rows=checkpoint_rows,
        workers=workers,
        threads=threads,
        engine=engine,
        ray_address=ray_address,
        ray_actors=ray_actors,
        header=header,
        restart=restart,
        quiet=quiet,
    )
    summary = _run_rescore(options)
    if _AS_CONSOLE_SCRIPT:
        # The output is in place: a Ctrl-C from now on (while the summary prints,
        # or while worker threads wind down at exit) must not turn it into a
        # failure.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    typer.echo(summary)


def _run_rescore(options: Any) -> str:
    # On a terminal, an unclear text column is asked for instead of failing.
    from nlp.errors import NlpError
    from service.rescore import ColumnError, RescoreError, format_summary, rescore

    while True:
        try:
            return format_summary(rescore(options).summary)
        except ColumnError as e:
            if e.option != "--text-column" or not sys.stdin.isatty():
                _fail(str(e))
            typer.echo(str(e), err=True)
            choice = typer.prompt(
                f"Which column holds the text ({', '.join(e.columns)})?"
            )
            options = dataclasses.replace(options, text_column=choice.strip())
        except (RescoreError, NlpError) as e:
            _fail(str(e))
        except KeyboardInterrupt:
            _interrupted("run the same command again to continue")


def _interrupted(what_now: str) -> NoReturn:
    typer.echo(f"error: interrupted; {what_now}", err=True)
    if _AS_CONSOLE_SCRIPT:
        # A second Ctrl-C while worker processes and threads wind down (about a
        # second) would end in a traceback from inside their shutdown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise typer.Exit(code=130)  # the shell's code for SIGINT


_AS_CONSOLE_SCRIPT = False


def main() -> None:
    """Entry point of the console script."""
    global _AS_CONSOLE_SCRIPT
    _AS_CONSOLE_SCRIPT = True
    app()


def _configure_logging(verbose: bool, *, default: int = logging.WARNING) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else default,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _read_text_file(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except UnicodeDecodeError as e:
        _fail(f"{path}: not valid UTF-8 at byte {e.start}; re-encode the file as UTF-8")


def _report(result: dict[str, Any], as_json: bool, *, keys: tuple[str, ...]) -> None:
    if as_json:
        _print_json(result)
        return
    for key in keys:
        value = result[key]
        typer.echo(
            f"{key:>20}: {value:.4f}"
            if isinstance(value, float)
            else f"{key:>20}: {value}"
        )


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)
