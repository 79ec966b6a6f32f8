"""Texts per second of batched PII redaction.

Run:  .venv/bin/python bench/bench_redaction.py

Redacts the first 1,000 Microsoft Word app reviews of ../shared/data/app_reviews
with ``Redactor.redact_many`` after a 50-text warm-up, and prints the rate.
"""

from __future__ import annotations

import csv
import json
import time

from service.redaction import Redactor
from training.data import shared_data_dir


def main() -> None:
    path = shared_data_dir() / "app_reviews" / "Microsoft_Word.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [r["content"] for r in csv.DictReader(handle) if r["content"]][:1000]
    redactor = Redactor.load()
    redactor.redact_many(texts[:50])
    started = time.perf_counter()
    redactor.redact_many(texts)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"texts": len(texts), "texts_per_second": round(len(texts) / seconds, 1)}
        )
    )


if __name__ == "__main__":
    main()
