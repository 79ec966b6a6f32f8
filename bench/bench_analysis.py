"""Throughput and memory of the full analysis, against a plain transformers pipeline.

Run:  .venv/bin/python bench/bench_analysis.py [--threads 2] [--json]

Measures, on ../shared/data/goemotions/dev.tsv:
- texts per second of ``Analyzer.analyze_many`` (emotions, CS view, polarity,
  language) in calls of 1,000 texts, and the process's peak RSS after it;
- the same body (all-MiniLM-L6-v2) in a plain ``transformers`` text-classification
  pipeline, batch 32 and batch 1, with the same number of torch threads;
- the latency of one 3,000-word transcript (median of 5).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from nlp.analysis import Analyzer
from training.data import read_goemotions, shared_data_dir

_TRANSCRIPT_SENTENCES = [
    "I logged in to the admin console this morning to check the nightly export.",
    "The report for the western region shows numbers that do not match our CRM.",
    "Your agent asked me to clear the cache and run the sync again.",
    "We did that twice and the totals are still off by a few hundred records.",
    "Our finance team needs the corrected figures before the board meeting.",
    "I also noticed the API token page now asks for a second approval step.",
]


def transcript(words: int = 3000) -> str:
    """A support transcript of about ``words`` words ending in an angry paragraph."""
    out: list[str] = []
    n = 0
    while sum(len(s.split()) for s in out) < words - 30:
        out.append(f"({n}) {_TRANSCRIPT_SENTENCES[n % len(_TRANSCRIPT_SENTENCES)]}")
        n += 1
    out.append("This is unacceptable. I am furious that this keeps happening.")
    return " ".join(out)


def bench_analyzer(texts: list[str], threads: int) -> dict[str, float]:
    analyzer = Analyzer.load(threads=threads)
    analyzer.analyze_many(texts[:200])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(texts), 1000):
        analyzer.analyze_many(texts[i : i + 1000])
    seconds = time.perf_counter() - started
    long_text = transcript()
    latencies = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = analyzer.analyze(long_text)
        latencies.append(time.perf_counter() - t0)
    return {
        "texts": len(texts),
        "texts_per_second": round(len(texts) / seconds, 1),
        "peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "transcript_words": len(long_text.split()),
        "transcript_pieces": result.split.pieces,
        "transcript_latency_ms_median": round(1000 * statistics.median(latencies), 1),
    }


def bench_pipeline(texts: list[str], threads: int) -> dict[str, float]:
    import torch
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    from nlp.encoder import base_model_dir

    hf_logging.set_verbosity_error()
    torch.set_num_threads(threads)
    classify = pipeline(
        "text-classification",
        model=str(base_model_dir()),
        top_k=None,
        function_to_apply="sigmoid",
        device="cpu",
    )
    out: dict[str, float] = {}
    for batch_size, n in ((32, 2000), (1, 500)):
        sample = texts[:n]
        classify(sample[:64], batch_size=batch_size)  # warm-up
        started = time.perf_counter()
        classify(sample, batch_size=batch_size, truncation=True)
        out[f"pipeline_batch{batch_size}_texts_per_second"] = round(
            n / (time.perf_counter() - started), 1
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--data", type=Path, default=shared_data_dir() / "goemotions" / "dev.tsv"
    )
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()

    texts = read_goemotions(args.data).texts
    ours = bench_analyzer(texts, args.threads)
    result: dict[str, object] = {
        "data": str(args.data),
        "threads": args.threads,
        **ours,
    }
    if not args.skip_pipeline:
        pipeline = bench_pipeline(texts, args.threads)
        result.update(pipeline)
        result["speedup_vs_pipeline_batch32"] = round(
            ours["texts_per_second"] / pipeline["pipeline_batch32_texts_per_second"], 2
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
