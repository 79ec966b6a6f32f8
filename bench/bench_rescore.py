"""Throughput and memory of ``feedback-miner rescore`` on a large export (issue 5).

Run:  nice .venv/bin/python bench/bench_rescore.py [--rows 1000000]
          [--workers N] [--threads N]    # -> bench/results/bench_rescore.json

1. Builds an export of ``--rows`` rows from the ~20,000 reviews of
   ``../shared/data/app_reviews`` (both CSV files): every pass over the reviews
   after the first changes each text a little (the casing of the first letter,
   the final punctuation, a suffix and the pass number), so no text of one pass
   recurs in another; within a pass, the reviews repeat as much as the source
   does (about 40% of them are copies: "good", "nice"). It has an id, a time
   and an account column. It is written once, to
   ``--cache`` (default ``/tmp/feedback-miner-bench/``), and reused.
2. Runs the rescore as a user would: ``feedback-miner rescore EXPORT --out
   OUT.parquet`` in a subprocess (with rescore's own choice of worker processes
   and threads unless ``--workers``/``--threads`` are given), and measures its
   wall time (model load and final merge included), its CPU time, and its peak
   RSS: the summed RSS of the command and all its worker processes, sampled
   every 0.2 s (``ru_maxrss`` alone gives only the largest process, reported
   beside it). On a shared machine the wall time depends on the neighbours;
   rows / (CPU seconds / cores) estimates the rate on idle cores.
3. Checks the output against a direct ``Analyzer.analyze_many`` call on a random
   sample of ``--sample`` rows (seed 0): status, language, polarity label,
   emotion labels equal, every score within 1e-6.

Targets (issue 5): at least 800 rows/s and at most 2 GB peak RSS on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq

from nlp.analysis import Analyzer
from nlp.labels import CS_VIEW, EMOTIONS
from training.data import shared_data_dir

_RESULTS = Path(__file__).resolve().parent / "results" / "bench_rescore.json"
_CLI = Path(sys.executable).parent / "feedback-miner"
_SUFFIXES = ["", " Thanks.", " Please fix it.", " 5 stars", " Update:", " 🙂", " !!"]
_ACCOUNTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark"]
_TARGET_ROWS_PER_S = 800
_TARGET_RSS_MB = 2048


def load_reviews() -> list[tuple[str, str]]:
    """The (id, text) pairs of the app reviews, in file order."""
    reviews: list[tuple[str, str]] = []
    for path in sorted((shared_data_dir() / "app_reviews").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            reviews += [(r["reviewId"], r["content"]) for r in csv.DictReader(f)]
    return reviews


def variant(text: str, copy: int) -> str:
    """The ``copy``-th variation of a review text; copy 0 is the text itself."""
    if copy == 0 or not text:
        return text
    rng = random.Random(copy * 7919 + len(text))
    if rng.random() < 0.5:
        text = text[:1].swapcase() + text[1:]
    if rng.random() < 0.3 and text[-1:] in {".", "!", "?"}:
        text = text[:-1]
    return f"{text}{_SUFFIXES[copy % len(_SUFFIXES)]} #{copy}"


def row(reviews: list[tuple[str, str]], i: int) -> tuple[str, str, str, str]:
    """Row ``i`` of the export: id, text, time, account."""
    review_id, text = reviews[i % len(reviews)]
    copy = i // len(reviews)
    day = 1 + i % 28
    return (
        f"{review_id}-{copy}",
        variant(text, copy),
        f"2024-{1 + i % 12:02d}-{day:02d}T12:00:00Z",
        _ACCOUNTS[i % len(_ACCOUNTS)],
    )


def build_export(path: Path, rows: int, reviews: list[tuple[str, str]]) -> None:
    """Write the export once; an existing file of that name is reused."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review_id", "content", "created_at", "account"])
        writer.writerows(row(reviews, i) for i in range(rows))
    tmp.replace(path)


def run_rescore(
    export: Path, out: Path, workers: int | None, threads: int | None, batch_size: int
) -> dict:
    """Run the CLI in a subprocess; return its wall time, CPU time and peak RSS."""
    command = [str(_CLI), "rescore", str(export), "--out", str(out)]
    command += ["--time-column", "created_at", "--account-column", "account"]
    command += ["--batch-size", str(batch_size)]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    log = out.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        peak = _TreePeak(process.pid)
        peak.start()
        stdout, _ = process.communicate()
        peak.stop()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"rescore failed ({process.returncode}); see {log}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "command": " ".join(command[1:]),
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(peak.peak_kb / 1024, 1),
        "largest_process_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "summary": stdout.strip().splitlines(),
    }


class _TreePeak(threading.Thread):
    """The peak of the summed RSS of a process and all its descendants.

    ``ru_maxrss`` of the children is the peak of the *largest* one, which misses
    the worker processes running beside the main one; this samples /proc every
    0.2 s and sums them (pages they share are counted once per process, so the
    figure errs high).
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields["PPid"])
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        tree.update(children)
        frontier += children
    return sum(rss.get(p, 0) for p in tree)


def check_sample(
    out: Path, reviews: list[tuple[str, str]], rows: int, size: int, threads: int
) -> dict:
    """Compare sampled output rows with a direct call of the analyzer."""
    picks = sorted(random.Random(0).sample(range(rows), min(size, rows)))
    table = pq.read_table(out).take(picks).to_pylist()
    analyses = Analyzer.load(threads=threads).analyze_many(
        [row(reviews, i)[1] for i in picks]
    )
    mismatches = []
    for i, got, want in zip(picks, table, analyses, strict=True):
        expected = {"status": want.status, "language": want.language}
        if want.polarity is not None:
            expected["polarity"] = want.polarity.label
            expected["polarity_score"] = want.polarity.score
            expected["emotions"] = ",".join(want.labels)
            expected |= {f"emotion_{e}": want.emotions[e] for e in EMOTIONS}
            expected |= {f"cs_{e}": want.cs_emotions[e] for e in CS_VIEW}
        for key, value in expected.items():
            same = (
                abs(got[key] - value) <= 1e-6
                if isinstance(value, float)
                else got[key] == value
            )
            if not same:
                mismatches.append({"row": i, "column": key})
    return {
        "sample_rows": len(picks),
        "sample_mismatches": len(mismatches),
        "sample_equal": not mismatches,
        "mismatch_examples": mismatches[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--workers", type=int, help="Passed on to rescore (default: its own)."
    )
    parser.add_argument(
        "--threads", type=int, help="Passed on to rescore (default: its own)."
    )
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedback-miner-bench",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the output.")
    args = parser.parse_args()

    reviews = load_reviews()
    export = args.cache / f"app_reviews_{args.rows}.csv"
    build_export(export, args.rows, reviews)
    workdir = Path(tempfile.mkdtemp(prefix="bench-rescore-"))
    out = workdir / "scored.parquet"
    try:
        measured = run_rescore(export, out, args.workers, args.threads, args.batch_size)
        checked = check_sample(out, reviews, args.rows, args.sample, 2)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    rows_per_s = args.rows / measured["wall_s"]
    result = {
        "rows": args.rows,
        "export_mb": round(export.stat().st_size / 2**20, 1),
        "command": measured["command"],
        "cpus": os.cpu_count(),
        "batch_size": args.batch_size,
        "wall_s": measured["wall_s"],
        "rows_per_second": round(rows_per_s, 1),
        # On a shared machine the wall time says little; the CPU time does:
        # rows per second if the job had every core to itself.
        "cpu_s": measured["cpu_s"],
        "rows_per_second_on_idle_cores": round(
            args.rows / (measured["cpu_s"] / (os.cpu_count() or 1)), 1
        ),
        "peak_rss_mb": measured["peak_rss_mb"],
        "largest_process_peak_rss_mb": measured["largest_process_peak_rss_mb"],
        **checked,
        "meets_rows_per_second_target": rows_per_s >= _TARGET_ROWS_PER_S,
        "meets_rss_target": measured["peak_rss_mb"] <= _TARGET_RSS_MB,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "summary": measured["summary"],
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    _RESULTS.parent.mkdir(exist_ok=True)
    _RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
