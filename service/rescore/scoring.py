"""Scoring prepared chunks: from a table of checked texts to the output columns.

:class:`Scorer` takes the table :func:`service.rescore.rows.prepare` builds, runs
:meth:`nlp.analysis.Analyzer.analyze_many` on the rows without an error, in calls
of ``batch_size`` distinct texts, and adds the columns of :func:`result_fields`.
Both engines run it, so the local and the Ray engine write the same rows.

Copies of a text are analysed once, and a bounded cache keeps the analyses of
recent short texts: exports of app reviews are about 40% repeats ("good",
"nice app"). The analyzer gives a text the same reading in any batch, so this
changes no output, only the time.

Output columns, after the input's id (or ``row``), time and account columns:

- ``status``: ``scored``, ``empty`` (nothing to score, e.g. only punctuation),
  ``unsupported_language`` or ``error``; ``error`` and ``error_message`` say why;
- ``language``, ``language_confidence``;
- ``polarity`` (negative / neutral / positive / mixed), ``polarity_score`` in
  [-1, 1] and the three class probabilities;
- ``emotions``: the 28-label reading's labels, comma-separated, best first, then
  ``emotion_<label>`` scores; ``cs_emotions`` and ``cs_<emotion>`` likewise for
  the customer-success view;
- ``theme`` (-1 for an outlier) and ``theme_label``, when themes are on;
- ``model_version``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from nlp.labels import CS_VIEW, EMOTIONS

if TYPE_CHECKING:
    import pyarrow as pa

    from nlp.analysis import Analysis, Analyzer
    from nlp.themes import ThemeModel

__all__ = [
    "POSITION",
    "ROW",
    "TEXT",
    "Scorer",
    "load_scorer",
    "result_fields",
    "result_names",
]

logger = logging.getLogger(__name__)

ROW = "__row"
TEXT = "__text"
# Set by the Ray engine's reader: how far into the input a block ends.
POSITION = "__position"
_POLARITY_CLASSES = ("negative", "neutral", "positive")
# The most recent short texts and their analyses, so that the "good" and "nice"
# that fill app-review exports are read once; bounded, so memory stays flat.
_CACHE_SIZE = 20_000
_CACHE_MAX_CHARS = 200


def load_scorer(
    *, threads: int | None, batch_size: int, themes: bytes | None
) -> Scorer:
    """Load the analyzer (and the embedder, with themes) and build a scorer.

    Args:
        threads: Encoder threads.
        batch_size: Distinct texts per analyzer call.
        themes: A fitted theme model from
            :func:`service.rescore.themes.themes_to_bytes`, or None.
    """
    from nlp.analysis import Analyzer
    from service.rescore.themes import themes_from_bytes

    model = None
    if themes is not None:
        from nlp.embeddings import Embedder

        model = themes_from_bytes(themes, embedder=Embedder.load(threads=threads))
    return Scorer(Analyzer.load(threads=threads), themes=model, batch_size=batch_size)


def result_names(*, themes: bool) -> list[str]:
    """The names of the columns the scorer adds, in order."""
    return [f.name for f in result_fields(themes=themes)]


def result_fields(*, themes: bool) -> list[pa.Field]:
    """The Arrow fields of the columns the scorer adds, in order."""
    import pyarrow as pa

    def floats(names: list[str]) -> list[pa.Field]:
        return [pa.field(n, pa.float64()) for n in names]

    fields = [
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("error_message", pa.string()),
        pa.field("language", pa.string()),
        pa.field("language_confidence", pa.float64()),
        pa.field("polarity", pa.string()),
        *floats(["polarity_score", *(f"polarity_{c}" for c in _POLARITY_CLASSES)]),
        pa.field("emotions", pa.string()),
        *floats([f"emotion_{e}" for e in EMOTIONS]),
        pa.field("cs_emotions", pa.string()),
        *floats([f"cs_{e}" for e in CS_VIEW]),
    ]
    if themes:
        fields += [pa.field("theme", pa.int64()), pa.field("theme_label", pa.string())]
    return [*fields, pa.field("model_version", pa.string())]


class Scorer:
    """Adds the analysis columns to prepared tables.

    Args:
        analyzer: The loaded analyzer.
        themes: A fitted theme model (with its embedder) to assign themes, or None.
        batch_size: Distinct texts per ``analyze_many`` call.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        *,
        themes: ThemeModel | None = None,
        batch_size: int = 1024,
    ) -> None:
        self.analyzer = analyzer
        self.themes = themes
        self.batch_size = batch_size
        self._cache: OrderedDict[str, Analysis] = OrderedDict()
        self._theme_labels = (
            {t.theme_id: t.label for t in themes.themes_} if themes is not None else {}
        )

    def score(self, table: pa.Table) -> pa.Table:
        """Return ``table`` without its text column, with the result columns added."""
        import pyarrow as pa

        texts: list[str | None] = table.column(TEXT).to_pylist()
        errors: list[str | None] = table.column("error").to_pylist()
        messages: list[str | None] = table.column("error_message").to_pylist()
        analyses = self._analyze_rows(texts, errors, messages)
        columns = self._columns(len(texts), analyses, errors, messages)
        if self.themes is not None:
            columns.update(self._theme_columns(texts, analyses))
        fields = result_fields(themes=self.themes is not None)
        out = table.drop_columns([TEXT, "error", "error_message"])
        for f in fields:
            out = out.append_column(f, pa.array(columns[f.name], type=f.type))
        return out

    def _analyze_rows(
        self,
        texts: list[str | None],
        errors: list[str | None],
        messages: list[str | None],
    ) -> dict[int, Analysis]:
        # Each distinct text is analysed once: the analyzer reads a text the same
        # in any batch, so copies (and texts seen in earlier chunks) share a result.
        analyses: dict[int, Analysis] = {}
        pending: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            if text is None or errors[i] is not None:
                continue
            known = self._cache.get(text)
            if known is not None:
                self._cache.move_to_end(text)
                analyses[i] = known
            else:
                pending.setdefault(text, []).append(i)
        distinct = list(pending)
        for at in range(0, len(distinct), self.batch_size):
            for text, result in self._analyze(distinct[at : at + self.batch_size]):
                for i in pending[text]:
                    if isinstance(result, str):
                        errors[i], messages[i] = "analysis_failed", result
                    else:
                        analyses[i] = result
                if not isinstance(result, str):
                    self._remember(text, result)
        return analyses

    def _analyze(self, texts: list[str]) -> list[tuple[str, Analysis | str]]:
        try:
            return list(zip(texts, self.analyzer.analyze_many(texts), strict=True))
        except Exception:
            # One text the engine chokes on must not cost the file, nor its batch:
            # retry one by one and record the failure on the rows that fail.
            logger.warning(
                "a batch of %d texts failed; retrying one by one", len(texts)
            )
        found: list[tuple[str, Analysis | str]] = []
        for text in texts:
            try:
                found.append((text, self.analyzer.analyze(text)))
            except Exception as e:
                found.append((text, f"the analysis failed: {type(e).__name__}: {e}"))
        return found

    def _remember(self, text: str, analysis: Analysis) -> None:
        if len(text) > _CACHE_MAX_CHARS:
            return
        self._cache[text] = analysis
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    def _columns(
        self,
        n: int,
        analyses: dict[int, Analysis],
        errors: list[str | None],
        messages: list[str | None],
    ) -> dict[str, list[object]]:
        names = result_names(themes=False)
        columns: dict[str, list[object]] = {name: [None] * n for name in names}
        columns["error"], columns["error_message"] = list(errors), list(messages)
        columns["model_version"] = [self.analyzer.model_version] * n
        for i in range(n):
            analysis = analyses.get(i)
            if analysis is None:
                columns["status"][i] = "error"
                continue
            for name, value in _row(analysis).items():
                columns[name][i] = value
        return columns

    def _theme_columns(
        self, texts: list[str | None], analyses: dict[int, Analysis]
    ) -> dict[str, list[object]]:
        assert self.themes is not None
        rows = sorted(analyses)
        ids = self.themes.transform([texts[i] or "" for i in rows]).tolist()
        theme: list[object] = [None] * len(texts)
        label: list[object] = [None] * len(texts)
        for i, theme_id in zip(rows, ids, strict=True):
            theme[i] = int(theme_id)
            label[i] = self._theme_labels.get(int(theme_id))
        return {"theme": theme, "theme_label": label}


def _row(analysis: Analysis) -> dict[str, object]:
    row: dict[str, object] = {
        "status": analysis.status,
        "language": analysis.language,
        "language_confidence": analysis.language_confidence,
        "model_version": analysis.model_version,
    }
    if analysis.polarity is not None:
        row["polarity"] = analysis.polarity.label
        row["polarity_score"] = analysis.polarity.score
        for name in _POLARITY_CLASSES:
            row[f"polarity_{name}"] = analysis.polarity.probabilities[name]
    if analysis.emotions:
        row["emotions"] = ",".join(analysis.labels)
        row.update({f"emotion_{k}": v for k, v in analysis.emotions.items()})
        row["cs_emotions"] = ",".join(analysis.cs_labels)
        row.update({f"cs_{k}": v for k, v in analysis.cs_emotions.items()})
    return row
