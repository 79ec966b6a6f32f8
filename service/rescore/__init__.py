"""Batch rescoring of review exports: ``feedback-miner rescore INPUT --out OUTPUT``.

Reads a CSV/TSV (any delimiter and encoding), JSON Lines or Parquet export in
chunks, scores every row with :class:`nlp.analysis.Analyzer` (and optionally
themes), and writes Parquet or CSV with one row per input record, bad rows
included with their reason; then an error report, a summary and an HTML report.
A killed run continues where it stopped. The modules, in the order a run uses
them:

- :mod:`~service.rescore.sniff`: format, encoding, delimiter, which columns;
- :mod:`~service.rescore.readers`: chunked reading from any record;
- :mod:`~service.rescore.rows`: text checks, bad rows and their reasons;
- :mod:`~service.rescore.scoring`: analysis columns;
- :mod:`~service.rescore.checkpoint`: parts and manifest, for resuming;
- :mod:`~service.rescore.themes`: themes fitted on a sample of the input;
- :mod:`~service.rescore.ray_engine` (and ``ray_source``): the Ray Data engine;
- :mod:`~service.rescore.writers`, :mod:`~service.rescore.summary`,
  :mod:`~service.rescore.report`: output, error report, summary, HTML;
- :mod:`~service.rescore.job`: :func:`rescore`, which runs all of it with
  :class:`~service.rescore.options.RescoreOptions`.
"""

from __future__ import annotations

from service.rescore.errors import (
    ColumnError,
    EngineError,
    InputFileError,
    RescoreError,
    ResumeError,
)
from service.rescore.job import RescoreResult, rescore
from service.rescore.options import ENGINES, RescoreOptions
from service.rescore.summary import Summary, format_summary

__all__ = [
    "ENGINES",
    "ColumnError",
    "EngineError",
    "InputFileError",
    "RescoreError",
    "RescoreOptions",
    "RescoreResult",
    "ResumeError",
    "Summary",
    "format_summary",
    "rescore",
]
