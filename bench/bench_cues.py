"""How often the CS frustration cues fire, by the gold sentiment of airline tweets.

Run:  .venv/bin/python bench/bench_cues.py

airline_tweets is support traffic labelled negative / neutral / positive and never
used in training; a useful cue fires far more often on negative tweets than on the
others. Prints, per gold class and per cue, the share of tweets it fires on.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

from nlp.cues import CUES, frustration_cues
from training.data import shared_data_dir


def main() -> None:
    path = shared_data_dir() / "airline_tweets" / "tweets.csv"
    totals: Counter[str] = Counter()
    fired: Counter[tuple[str, str]] = Counter()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            gold = row["airline_sentiment"]
            totals[gold] += 1
            names, _ = frustration_cues(row["text"])
            for name in names:
                fired[(gold, name)] += 1
            if names:
                fired[(gold, "any")] += 1
    result = {
        gold: {
            "n": totals[gold],
            **{
                name: round(fired[(gold, name)] / totals[gold], 4)
                for name in [c.name for c in CUES] + ["any"]
            },
        }
        for gold in sorted(totals)
    }
    print(json.dumps({"data": str(path), "fire_rate": result}, indent=2))


if __name__ == "__main__":
    main()
