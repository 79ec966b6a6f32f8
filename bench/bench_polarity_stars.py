"""Polarity against star ratings on held-out app reviews, ours beside VADER.

Run:  .venv/bin/python bench/bench_polarity_stars.py [--threads 2]

The rows are the held-out 20 % of ``app_reviews`` (split by review id with the very
function ``training/polarity.py`` trains with, so no row here was fitted or tuned
on), 1-2 stars read as negative and 4-5 as positive; 3-star reviews are left out.
Two decisions are scored for each system:

- ``label``: our analysis label, where neutral, mixed and an unscored text
  (flagged non-English, or empty) count as wrong; for VADER, the usual cut-offs on
  the compound score (>= 0.05 positive, <= -0.05 negative, anything between is
  neutral and wrong);
- ``sign``: a forced binary choice, the sign of our polarity score or of VADER's
  compound; a score of exactly 0 (or an unscored text) makes no choice and is wrong.

Both systems see the same rows in the same run. Also reported: per-class recall,
agreement per star count, and the share of rows each system calls neutral, mixed or
leaves unscored. VADER comes from ``vaderSentiment`` (requirements-dev.lock).
Prints JSON and writes it to ``bench/results/bench_polarity_stars.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlp.analysis import Analyzer
from training.polarity import StarReview, app_reviews

_RESULT = Path(__file__).resolve().parent / "results" / "bench_polarity_stars.json"
_VADER_CUTOFF = 0.05


def gold_polarity(stars: int) -> str:
    """Map a star rating (not 3) to the polarity it stands for."""
    return "negative" if stars <= 2 else "positive"


def ours(
    reviews: Sequence[StarReview], threads: int | None
) -> tuple[str, list[str], list[str]]:
    """Score the reviews with the shipped analyzer.

    Returns:
        The model version, one label and one sign decision per review.
    """
    analyzer = Analyzer.load(threads=threads)
    analyses = analyzer.analyze_many([r.text for r in reviews])
    labels = [a.polarity.label if a.polarity else "unscored" for a in analyses]
    signs = [_sign(a.polarity.score) if a.polarity else "none" for a in analyses]
    return analyzer.model_version, labels, signs


def vader(reviews: Sequence[StarReview]) -> tuple[list[str], list[str]]:
    """Score the reviews with VADER's compound score: labels and sign decisions."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    scorer = SentimentIntensityAnalyzer()
    compounds = [scorer.polarity_scores(r.text)["compound"] for r in reviews]
    labels = [
        "positive"
        if c >= _VADER_CUTOFF
        else "negative"
        if c <= -_VADER_CUTOFF
        else "neutral"
        for c in compounds
    ]
    return labels, [_sign(c) for c in compounds]


def score(
    reviews: Sequence[StarReview], labels: Sequence[str], signs: Sequence[str]
) -> dict[str, Any]:
    """Agreement of label and sign decisions with the stars, overall and broken down.

    Args:
        reviews: The rated reviews (no 3-star ones).
        labels: One polarity label per review (``unscored`` when there is none).
        signs: One forced choice per review: positive, negative or ``none``.

    Returns:
        ``agreement`` and ``agreement_sign``, the shares of neutral, mixed and
        unscored labels, per-class recall of both decisions, and both agreements per
        star count.
    """
    gold = [gold_polarity(r.stars) for r in reviews]
    n = len(gold)
    result: dict[str, Any] = {
        "agreement": _agreement(gold, labels),
        "agreement_sign": _agreement(gold, signs),
        "share": {
            name: round(sum(label == name for label in labels) / n, 4)
            for name in ("neutral", "mixed", "unscored")
        },
        "recall": {},
        "recall_sign": {},
        "per_star": {},
    }
    for polarity in ("negative", "positive"):
        rows = [i for i, g in enumerate(gold) if g == polarity]
        result["recall"][polarity] = _agreement(
            [gold[i] for i in rows], [labels[i] for i in rows]
        )
        result["recall_sign"][polarity] = _agreement(
            [gold[i] for i in rows], [signs[i] for i in rows]
        )
    for stars in sorted({r.stars for r in reviews}):
        rows = [i for i, r in enumerate(reviews) if r.stars == stars]
        result["per_star"][str(stars)] = {
            "n": len(rows),
            "agreement": _agreement([gold[i] for i in rows], [labels[i] for i in rows]),
            "agreement_sign": _agreement(
                [gold[i] for i in rows], [signs[i] for i in rows]
            ),
        }
    return result


def _sign(value: float) -> str:
    return "positive" if value > 0 else "negative" if value < 0 else "none"


def _agreement(gold: Sequence[str], predicted: Sequence[str]) -> float:
    hits = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return round(hits / len(gold), 4) if gold else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    _, held_out = app_reviews()
    reviews = [r for r in held_out if r.stars != 3]
    started = time.perf_counter()
    version, our_labels, our_signs = ours(reviews, args.threads)
    our_seconds = time.perf_counter() - started
    started = time.perf_counter()
    vader_labels, vader_signs = vader(reviews)
    vader_seconds = time.perf_counter() - started

    # Both again on the rows our language filter lets through, to show how much of
    # the gap between the systems is the rows we decline to score.
    kept = [i for i, label in enumerate(our_labels) if label != "unscored"]
    subset = [reviews[i] for i in kept]
    result = {
        "data": "app_reviews, held-out 20 % by review id, 3 stars left out",
        "n": len(reviews),
        "n_by_star": {s: sum(r.stars == int(s) for r in reviews) for s in "1245"},
        "ours": {
            "system": f"feedback-miner {version}",
            "seconds": round(our_seconds, 1),
            **score(reviews, our_labels, our_signs),
        },
        "vader": {
            "system": "vaderSentiment 3.3.2",
            "seconds": round(vader_seconds, 1),
            **score(reviews, vader_labels, vader_signs),
        },
        "on_rows_we_score": {
            "n": len(kept),
            "ours": _brief(subset, _pick(our_labels, kept), _pick(our_signs, kept)),
            "vader": _brief(
                subset, _pick(vader_labels, kept), _pick(vader_signs, kept)
            ),
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    _RESULT.parent.mkdir(parents=True, exist_ok=True)
    _RESULT.write_text(text + "\n", encoding="utf-8")


def _brief(
    reviews: Sequence[StarReview], labels: list[str], signs: list[str]
) -> dict[str, float]:
    full = score(reviews, labels, signs)
    return {k: full[k] for k in ("agreement", "agreement_sign")}


def _pick(values: Sequence[str], rows: Sequence[int]) -> list[str]:
    return [values[i] for i in rows]


if __name__ == "__main__":
    main()
