"""Load benchmark of the running service: analyze latency and ingest throughput.

Run:  .venv/bin/python bench/bench_service.py [--backend sqlite|postgresql|both]

Starts ``feedback-miner serve`` as a separate process on a free loopback port (a temp
SQLite file, or a fresh PostgreSQL database at 127.0.0.1:5432 that is dropped
afterwards), then, from this process:

1. ``POST /v1/analyze`` with one GoEmotions dev text per request from 16 concurrent
   connections: p50 / p95 / p99 latency and requests per second, measured with
   ``wrk`` (Debian package ``wrk``; a C client, so that the client's own CPU does
   not crowd the server on two cores) after a 5-second warm-up; without ``wrk`` an
   httpx client does the same, slower;
2. ``POST /v1/feedback:batch`` with app reviews (redaction, analysis and storage),
   batches of 500 items from 2 concurrent clients: items per second.

Client and server share the machine's two cores, as they would on a small host.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from training.data import read_goemotions, shared_data_dir

_VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(_VENV_BIN / "feedback-miner"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
                == 200
            ):
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("the service did not become ready within 180 s")


def create_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [
            str(_VENV_BIN / "feedback-miner"),
            "tenants",
            "create",
            "bench",
            "--scopes",
            "admin",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def analyze_latency_wrk(base: str, texts: list[str], seconds: int) -> dict[str, Any]:
    script = Path(__file__).with_name("wrk_analyze.lua")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(" ".join(t.split()) for t in texts))
    env = {**os.environ, "WRK_TEXTS": handle.name}
    command = ["wrk", "-t1", "-c16", "-s", str(script), base]
    subprocess.run(
        [*command[:3], "-d5s", *command[3:]], env=env, check=True, capture_output=True
    )
    result = subprocess.run(
        [*command[:3], f"-d{seconds}s", *command[3:]],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return {"client": "wrk", "connections": 16, "seconds": seconds, **summary}


async def analyze_latency(base: str, texts: list[str], clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            text = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post(f"{base}/v1/analyze", json={"text": text})
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

    async with httpx.AsyncClient(timeout=30) as http:
        await http.post(f"{base}/v1/analyze", json={"text": "warm up"})
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "clients": clients,
        "requests_per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1),
    }


async def ingest_rate(
    base: str, key: str, reviews: list[str], batch: int, clients: int
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    items = [
        {
            "external_id": f"{run}-{i}",
            "account_id": f"account-{i % 25}",
            "channel": "review",
            "occurred_at": "2026-11-01T12:00:00Z",
            "text": text,
        }
        for i, text in enumerate(reviews)
    ]
    batches = [items[i : i + batch] for i in range(0, len(items), batch)]
    headers = {"authorization": f"Bearer {key}"}
    created = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal created
        while batches:
            body = {"items": batches.pop()}
            response = await http.post(f"{base}/v1/feedback:batch", json=body)
            response.raise_for_status()
            created += response.json()["created"]

    async with httpx.AsyncClient(timeout=600, headers=headers) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - started
    return {
        "items": len(items),
        "created": created,
        "batch_size": batch,
        "clients": clients,
        "items_per_second": round(len(items) / seconds, 1),
    }


def app_reviews(limit: int) -> list[str]:
    path = shared_data_dir() / "app_reviews" / "Microsoft_Word.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [row["content"] for row in csv.DictReader(handle) if row["content"]]
    return texts[:limit]


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="fm-bench-")
    env = {
        **os.environ,
        "FEEDBACK_MINER_DATA_DIR": data_dir,
        "FEEDBACK_MINER_WEBHOOKS_ENABLED": "false",
    }
    database = None
    if backend == "postgresql":
        database = f"fm_bench_{uuid.uuid4().hex[:8]}"
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-qc",
                f"CREATE DATABASE {database}",
            ],
            check=True,
        )
        env["FEEDBACK_MINER_DATABASE_URL"] = (
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
        )
    port = free_port()
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        key = create_key(env)
        texts = read_goemotions(shared_data_dir() / "goemotions" / "dev.tsv").texts
        result: dict[str, Any] = {"backend": backend}
        if backend == "sqlite" or args.backend == "postgresql":
            if shutil.which("wrk"):
                result["analyze"] = analyze_latency_wrk(base, texts, args.seconds)
            else:
                result["analyze"] = asyncio.run(
                    analyze_latency(base, texts[: args.requests], clients=16)
                )
        result["ingest"] = asyncio.run(
            ingest_rate(base, key, app_reviews(args.items), batch=500, clients=2)
        )
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-qc",
                    f"DROP DATABASE IF EXISTS {database}",
                ],
                check=False,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--requests", type=int, default=2000, help="httpx client")
    parser.add_argument("--seconds", type=int, default=30, help="wrk run length")
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(json.dumps([run_backend(b, args) for b in backends], indent=2))


if __name__ == "__main__":
    main()
