"""The options of a rescoring job, as the command line gives them.

:class:`RescoreOptions` is a plain frozen dataclass, so that tests and notebooks
build one directly and call :func:`service.rescore.rescore` with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from service.rescore.rows import DEFAULT_MAX_CHARS

__all__ = ["ENGINES", "RescoreOptions"]

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class RescoreOptions:
    """What to rescore, and how. Columns left None are found when obvious.

    Attributes:
        input: The export (CSV/TSV/any delimiter, JSON Lines or Parquet).
        output: The output file (``.parquet``, ``.csv`` or ``.tsv``).
        text_column: Column of the texts.
        id_column: Column of row ids; without one, rows are numbered from 1.
        time_column: A time column copied to the output.
        account_column: An account column copied to the output.
        encoding: The input's text encoding; detected when None.
        delimiter: The input's field delimiter; sniffed when None.
        header: Whether delimited input starts with a line of column names; without
            one the columns are ``column_1``, ``column_2``, ...
        themes: Assign every row to a theme: fitted on a sample of the input, or
            read from ``theme_model``.
        theme_model: A theme model file (``feedback-miner themes --save-model``,
            or the ``.themes.json`` of an earlier rescore) to assign rows to,
            instead of fitting.
        theme_sample: Texts sampled for fitting the themes.
        min_cluster_size: Fewest texts in a theme.
        max_chars: Longest text scored; longer rows are recorded as errors.
        batch_size: Texts per analyzer call.
        checkpoint_rows: Rows per saved part (what a kill can cost).
        workers: Scoring processes of the local engine (None: one per core, at
            most four).
        threads: Encoder threads per process or Ray actor (None: 1 with several
            processes, else the cores).
        engine: ``"local"`` or ``"ray"``.
        ray_address: Address of a Ray cluster (``auto``, ``ray://host:10001``);
            None starts a local Ray instance.
        ray_actors: Scoring actors on Ray (None: one per ``threads`` CPUs).
        restart: Discard saved progress and an existing output.
        quiet: No progress display and no notes on the stream.
    """

    input: Path
    output: Path
    text_column: str | None = None
    id_column: str | None = None
    time_column: str | None = None
    account_column: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header: bool = True
    themes: bool = False
    theme_model: Path | None = None
    theme_sample: int = 20_000
    min_cluster_size: int = 10
    max_chars: int = DEFAULT_MAX_CHARS
    batch_size: int = 1024
    checkpoint_rows: int = 16_384
    workers: int | None = None
    threads: int | None = None
    engine: str = "local"
    ray_address: str | None = None
    ray_actors: int | None = None
    restart: bool = False
    quiet: bool = False
