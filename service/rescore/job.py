"""The rescoring job: read an export, score every row, write the output and report.

:func:`rescore` is what ``feedback-miner rescore`` runs. Its steps:

1. look at the input (format, encoding, delimiter, columns) and pick the text,
   id, time and account columns (:mod:`service.rescore.sniff`);
2. open the saved progress next to the output, or start it
   (:mod:`service.rescore.checkpoint`);
3. with ``themes``, fit a theme model on a sample of the input, or reuse the one
   saved with the progress (:mod:`service.rescore.themes`);
4. score the records not done yet, in chunks, saving a part every
   ``checkpoint_rows`` rows: in this process (the local engine) or on Ray Data
   (:mod:`service.rescore.ray_engine`);
5. merge the parts into the output, writing the error report and counting the
   summary on the way; write the HTML report; delete the saved progress.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from service.rescore import sniff
from service.rescore.checkpoint import THEMES_FILE, Checkpoint, state_folder
from service.rescore.errors import (
    ColumnError,
    EngineError,
    RescoreError,
    ResumeError,
)
from service.rescore.options import ENGINES, RescoreOptions
from service.rescore.progress import Progress, make_progress
from service.rescore.readers import (
    RawChunk,
    Source,
    iter_chunks,
    open_source,
    sample_values,
)
from service.rescore.report import write_html_report
from service.rescore.rows import Layout, prepare
from service.rescore.scoring import Scorer, result_fields
from service.rescore.summary import Summary, SummaryCounter
from service.rescore.writers import ErrorReport, TableWriter, output_format, sidecar

if TYPE_CHECKING:
    import pyarrow as pa

    from nlp.themes import ThemeModel

__all__ = ["RescoreResult", "rescore", "resolve_layout"]

logger = logging.getLogger(__name__)


@dataclass
class RescoreResult:
    """What a finished job wrote and found."""

    summary: Summary
    output: Path
    errors_report: Path
    html_report: Path
    layout: Layout
    resumed_rows: int = 0


def rescore(options: RescoreOptions, *, stream: IO[str] | None = None) -> RescoreResult:
    """Score every record of ``options.input`` into ``options.output``.

    Args:
        options: What to do.
        stream: Where the progress display and notes go (default: stderr).

    Returns:
        The summary and the paths written.

    Raises:
        RescoreError: If the input cannot be read, a column is missing or not
            obvious, saved progress does not match, or the engine is unavailable.
    """
    stream = stream or sys.stderr
    started = time.monotonic()
    fmt = _check_output(options)
    _check_engine_options(options)
    theme_file = _read_theme_file(options)
    source = open_source(
        options.input,
        encoding=options.encoding,
        delimiter=options.delimiter,
        header=options.header,
    )
    data_like = sniff.no_header_hint(
        source.format, source.columns, header=source.header
    )
    try:
        layout = resolve_layout(source, options)
    except ColumnError as e:
        if data_like is None:
            raise
        raise ColumnError(
            f"{e} {sniff.NO_HEADER_ADVICE}", columns=e.columns, option=e.option
        ) from None
    _note(options, stream, _describe(source, layout))
    if data_like is not None:
        shown = data_like if len(data_like) <= 60 else data_like[:57] + "..."
        _note(
            options,
            stream,
            f"note: the column name {shown!r} reads like data; if the file has no "
            "header line, run again with --no-header and --restart",
        )
    for unused in sniff.unused_options(
        source.format,
        encoding=options.encoding,
        delimiter=options.delimiter,
        header=options.header,
    ):
        _note(options, stream, unused)
    checkpoint = Checkpoint.open(
        state_folder(options.output),
        _fingerprint(source, layout, options),
        restart=options.restart,
    )
    resumed = checkpoint.rows_done
    if resumed:
        _note(options, stream, f"continuing after {resumed:,} rows already scored")
    themes = None
    if not checkpoint.complete:
        themes = (
            _themes(source, layout, checkpoint, options, stream, theme_file)
            if options.themes
            else None
        )
        _score(source, layout, checkpoint, options, themes, stream)
        checkpoint.mark_complete()
    result = _finish(checkpoint, layout, options, fmt)
    if themes is not None and themes.status_ == "themed" and not options.theme_model:
        # The fitted themes, for assigning the next export to the same ones.
        from nlp.embeddings import load_embedder_artifact
        from nlp.themes import save_theme_model

        saved = sidecar(options.output, ".themes.json")
        version = load_embedder_artifact().version
        save_theme_model(themes, saved, embedder_version=version)
        result.summary.outputs["theme model"] = str(saved)
    if themes is not None and themes.status_ != "themed":
        from service.rescore.themes import no_themes_reason

        why = no_themes_reason(themes.status_, options.min_cluster_size)
        result.summary.theme_note = f"none ({why}); every row has theme -1"
        # A theme file of an earlier run beside this output is not this run's.
        sidecar(options.output, ".themes.json").unlink(missing_ok=True)
    result.resumed_rows = resumed
    result.summary.elapsed_s = time.monotonic() - started
    result.summary.rows_this_run = result.summary.rows - resumed
    write_html_report(
        result.summary, result.html_report, title=f"Rescoring of {options.input.name}"
    )
    checkpoint.remove()
    return result


def resolve_layout(source: Source, options: RescoreOptions) -> Layout:
    """Pick the text, id, time and account columns of ``source``.

    Raises:
        ColumnError: If a named column is missing or the text column is not
            obvious.
    """
    named = {
        "--text-column": options.text_column,
        "--id-column": options.id_column,
        "--time-column": options.time_column,
        "--account-column": options.account_column,
    }
    for option, name in named.items():
        if name is not None:
            sniff.require_column(name, source.columns, path=source.path, option=option)
    text = options.text_column or sniff.choose_text_column(
        source.columns, sample_values(source), path=source.path
    )
    others = [text, options.time_column or "", options.account_column or ""]
    id_column = options.id_column or sniff.choose_id_column(
        source.columns, exclude=others
    )
    return Layout(
        text=text,
        id=id_column,
        time=options.time_column,
        account=options.account_column,
        themes=options.themes,
    )


# Steps


def _check_output(options: RescoreOptions) -> str:
    fmt = output_format(options.output)
    if options.engine not in ENGINES:
        raise EngineError(
            f"--engine: expected one of {', '.join(ENGINES)}, got {options.engine!r}"
        )
    if options.output.is_dir():
        raise RescoreError(
            f"--out: {options.output} is a folder; give the path of the output file"
        )
    if options.output.resolve() == options.input.resolve():
        raise RescoreError("--out names the input file; choose another output path")
    # The files written beside the output must not replace the input either (an
    # error report scored again after a fix is a natural next step).
    written_files = (
        options.output,
        sidecar(options.output, ".errors.csv"),
        sidecar(options.output, ".report.html"),
        sidecar(options.output, ".themes.json"),
        state_folder(options.output),
    )
    for written in written_files[1:]:
        if written.resolve() == options.input.resolve():
            raise RescoreError(
                f"--out {str(options.output)!r} would write {written}, which is the "
                "input file; choose another output path"
            )
    model = options.theme_model
    if model is not None and any(
        model.resolve() == written.resolve() for written in written_files
    ):
        raise RescoreError(
            f"--themes {str(model)!r} is a file this run writes (--out "
            f"{str(options.output)!r}); choose another output path"
        )
    fresh = not state_folder(options.output).exists()
    if options.output.exists() and fresh and not options.restart:
        raise RescoreError(
            f"{options.output} exists (a finished run's output, or another file) "
            "and nothing was scored; pass --restart to score the input again and "
            "replace it, or choose another --out"
        )
    if not options.output.parent.is_dir():
        raise RescoreError(f"--out: the folder {options.output.parent} does not exist")
    return fmt


def _check_engine_options(options: RescoreOptions) -> None:
    if options.engine != "ray":
        given = [
            name
            for name, value in (
                ("--ray-address", options.ray_address),
                ("--ray-actors", options.ray_actors),
            )
            if value is not None
        ]
        if given:
            raise RescoreError(
                f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} "
                f"to --engine ray only, and the engine is {options.engine!r}; add "
                "--engine ray or leave them out"
            )


def _fingerprint(
    source: Source, layout: Layout, options: RescoreOptions
) -> dict[str, Any]:
    from nlp.artifact import load_artifact

    return {
        "input": str(source.path.resolve()),
        "input_size": source.size,
        "input_mtime_ns": source.mtime_ns,
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "header": source.header,
        "text_column": layout.text,
        "id_column": layout.id,
        "time_column": layout.time,
        "account_column": layout.account,
        "themes": options.themes,
        "theme_sample": options.theme_sample if options.themes else None,
        "theme_model": _file_identity(options.theme_model),
        "min_cluster_size": options.min_cluster_size if options.themes else None,
        "max_chars": options.max_chars,
        "model_version": load_artifact().version,
    }


def _file_identity(path: Path | None) -> str | None:
    # By content: an edited theme file is another model, whatever its timestamp.
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_theme_file(options: RescoreOptions) -> ThemeModel | None:
    # Read (and so checked) before anything is written: a bad file leaves no
    # progress behind that the corrected run would have to --restart.
    if options.theme_model is None:
        return None
    from nlp.embeddings import load_embedder_artifact
    from nlp.errors import InputError
    from nlp.themes import load_theme_model

    version = load_embedder_artifact().version
    try:
        return load_theme_model(
            options.theme_model, embedder=None, embedder_version=version
        )
    except InputError as e:
        raise RescoreError(f"--themes: {e}") from None


def _themes(
    source: Source,
    layout: Layout,
    checkpoint: Checkpoint,
    options: RescoreOptions,
    stream: IO[str],
    theme_file: ThemeModel | None,
) -> ThemeModel:
    from nlp.embeddings import Embedder
    from nlp.errors import InputError
    from nlp.themes import load_theme_model, save_theme_model
    from service.rescore.themes import fit_themes, redact_for_themes, sample_texts

    path = checkpoint.folder / THEMES_FILE
    embedder = Embedder.load(threads=options.threads)
    if theme_file is not None:
        theme_file.embedder = embedder
        count = len(theme_file.themes_)
        _note(options, stream, f"themes: {count} read from {options.theme_model}")
        return theme_file
    if path.exists():
        try:
            return load_theme_model(
                path, embedder=embedder, embedder_version=embedder.version
            )
        except InputError as e:
            raise ResumeError(
                f"saved progress is damaged: {e}; pass --restart to start over"
            ) from None
    texts = sample_texts(
        source, layout.text, size=options.theme_sample, max_chars=options.max_chars
    )
    # Fitted on redacted text, so that no name or address becomes a label term.
    texts = redact_for_themes(texts)
    model = fit_themes(
        texts, embedder=embedder, min_cluster_size=options.min_cluster_size
    )
    if model.themes_:  # a fit without themes is cheap, and refitted on resume
        save_theme_model(model, path, embedder_version=embedder.version)
    _note(options, stream, _theme_outcome(model, len(texts), options))
    return model


def _theme_outcome(model: ThemeModel, texts: int, options: RescoreOptions) -> str:
    from service.rescore.themes import no_themes_reason

    if model.status_ == "themed":
        return f"themes: {len(model.themes_)} found in a sample of {texts:,} texts"
    why = no_themes_reason(model.status_, options.min_cluster_size)
    return (
        f"themes: none found in a sample of {texts:,} texts ({why}); every row "
        "gets theme -1"
    )


def _score(
    source: Source,
    layout: Layout,
    checkpoint: Checkpoint,
    options: RescoreOptions,
    themes: ThemeModel | None,
    stream: IO[str],
) -> None:
    start = checkpoint.rows_done
    chunks = iter_chunks(
        source, layout.text, layout.carried, start=start, size=options.batch_size
    )
    first = next(chunks, None)
    if first is None:
        return
    progress = make_progress(
        stream,
        total=source.progress_total,
        # A resumed run: where the first chunk ends is close enough to its start.
        start_position=first.position if start else 0,
        start_rows=start,
        quiet=options.quiet,
    )
    try:
        if options.engine == "ray":
            from service.rescore.ray_engine import run_on_ray

            del chunks  # the Ray reader opens the file itself
            tables = run_on_ray(source, layout, options, themes=themes, start=start)
        else:
            tables = _score_locally(
                itertools.chain([first], chunks), source, layout, options, themes
            )
        _save_parts(tables, checkpoint, options.checkpoint_rows, progress)
    finally:
        progress.close()


def _score_locally(
    chunks: Iterator[RawChunk],
    source: Source,
    layout: Layout,
    options: RescoreOptions,
    themes: ThemeModel | None,
) -> Iterator[tuple[pa.Table, int]]:
    from service.rescore.themes import themes_to_bytes
    from service.rescore.workers import plan_workers, score_in_processes

    prepared = (
        (
            prepare(
                chunk, layout, max_chars=options.max_chars, encoding=source.encoding
            ),
            chunk.position,
        )
        for chunk in chunks
    )
    workers, threads = plan_workers(options.workers, options.threads)
    if workers > 1:
        yield from score_in_processes(
            prepared,
            workers=workers,
            threads=threads,
            batch_size=options.batch_size,
            themes=None if themes is None else themes_to_bytes(themes),
        )
        return
    from nlp.analysis import Analyzer

    scorer = Scorer(
        Analyzer.load(threads=threads), themes=themes, batch_size=options.batch_size
    )
    for table, position in prepared:
        yield scorer.score(table), position


def _save_parts(
    tables: Iterator[tuple[pa.Table, int]],
    checkpoint: Checkpoint,
    every: int,
    progress: Progress,
) -> None:
    import pyarrow as pa

    pending: list[pa.Table] = []
    rows = 0
    for table, position in tables:
        pending.append(table)
        rows += table.num_rows
        if rows >= every:
            checkpoint.add(pa.concat_tables(pending))
            pending, rows = [], 0
        progress.update(position, checkpoint.rows_done + rows)
    if pending:
        checkpoint.add(pa.concat_tables(pending))


def _finish(
    checkpoint: Checkpoint, layout: Layout, options: RescoreOptions, fmt: str
) -> RescoreResult:
    errors_path = sidecar(options.output, ".errors.csv")
    html_path = sidecar(options.output, ".report.html")
    columns = layout.output_columns()
    counter = SummaryCounter()
    schema = _output_schema(checkpoint, layout, columns)
    id_column = columns[0]
    report = ErrorReport(
        errors_path, id_column=id_column, id_type=schema.field(id_column).type
    )
    with TableWriter(options.output, schema, fmt=fmt) as writer:
        for part in checkpoint.iter_tables():
            table = part.select(columns)
            writer.write(table)
            counter.add(table)
            report.add(part)
    report.close()
    summary = counter.result()
    summary.outputs = {
        "output": str(options.output),
        "error report": str(errors_path),
        "HTML report": str(html_path),
    }
    return RescoreResult(summary, options.output, errors_path, html_path, layout)


def _output_schema(
    checkpoint: Checkpoint, layout: Layout, columns: list[str]
) -> pa.Schema:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if checkpoint.parts:
        saved = pq.read_schema(checkpoint.folder / checkpoint.parts[0].name)
        return pa.schema([saved.field(c) for c in columns])
    # An input without records: the carried columns as text, then the results.
    fields = [pa.field("row", pa.int64())] if layout.id is None else []
    fields += [pa.field(layout.output_name(c), pa.string()) for c in layout.carried]
    return pa.schema([*fields, *result_fields(themes=layout.themes)])


def _describe(source: Source, layout: Layout) -> str:
    how = source.format
    if source.format != "parquet":
        how += f", {source.encoding}"
    if source.delimiter:
        how += f", delimiter {source.delimiter!r}"
    id_text = repr(layout.id) if layout.id else "none (rows numbered from 1)"
    return (
        f"reading {source.path.name} ({how}): text column {layout.text!r}, "
        f"id column {id_text}"
    )


def _note(options: RescoreOptions, stream: IO[str], message: str) -> None:
    if not options.quiet:
        stream.write(message + "\n")
        stream.flush()
