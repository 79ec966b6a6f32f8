"""A SIGKILL in the middle of a batch loses no acknowledged item, duplicates none.

The real service runs as a subprocess (``feedback-miner serve``) on a temporary
SQLite file. Batches are posted, one is cut short by SIGKILL while the service
works on it, the service is started again, and every batch is posted again, as
a client that never saw an answer would. Then the database must hold every item
that was acknowledged, and each posted item exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.storage.models import FeedbackItem
from service.storage.session import create_db_engine
from service.tenants import create_tenant_with_key

_STARTUP_S = 120
_CLI = Path(sys.executable).parent / "feedback-miner"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Service:
    """``feedback-miner serve`` in a subprocess, on a data dir of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "FEEDBACK_MINER_DATA_DIR": str(self.data_dir),
            "FEEDBACK_MINER_RATE_LIMIT_PER_SECOND": "0",
            "FEEDBACK_MINER_WEBHOOKS_ENABLED": "false",
        }
        env.pop("FEEDBACK_MINER_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [str(_CLI), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the service exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(0.2)
        pytest.fail(f"the service was not ready within {_STARTUP_S} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    running = Service(tmp_path / "data")
    yield running
    running.stop()


def _batch(index: int, size: int) -> dict[str, Any]:
    return {
        "items": [
            {
                "external_id": f"crash-{index}-{n}",
                "account_id": f"acct-{n % 3}",
                "channel": "ticket",
                "text": f"Ticket {index}/{n}: the export failed again, please help.",
                "occurred_at": "2025-03-01T12:00:00Z",
            }
            for n in range(size)
        ]
    }


def _post(service: Service, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{service.url}/v1/feedback:batch", headers=headers, json=body, timeout=120
    )
    assert response.status_code == 200, response.text
    return response.json()


def _acknowledged(answer: Any) -> set[str]:
    return {
        r["external_id"]
        for r in answer["items"]
        if r["status"] in ("created", "duplicate")
    }


def test_sigkill_mid_batch_loses_no_acknowledged_item_and_duplicates_none(
    service: Service,
) -> None:
    database_url = f"sqlite:///{service.data_dir / 'feedback-miner.db'}"
    key = create_tenant_with_key(database_url, "crash-test").api_key
    headers = {"Authorization": f"Bearer {key}"}
    batches = [_batch(i, 40) for i in range(3)] + [_batch(3, 400)]
    service.start()

    acknowledged: set[str] = set()
    for body in batches[:3]:
        acknowledged |= _acknowledged(_post(service, headers, body))

    # The big batch takes seconds to redact and analyse; kill the service
    # while it works on it.
    outcome: dict[str, Any] = {}

    def post_big() -> None:
        try:
            outcome["answer"] = _post(service, headers, batches[3])
        except httpx.HTTPError as e:
            outcome["error"] = e

    poster = threading.Thread(target=post_big)
    poster.start()
    time.sleep(1.0)
    service.kill()
    poster.join(timeout=60)
    assert "error" in outcome, "the batch finished before the kill; make it larger"

    service.port = _free_port()
    service.start()
    for body in batches:
        answer = _post(service, headers, body)
        assert {r["status"] for r in answer["items"]} <= {"created", "duplicate"}
        acknowledged |= _acknowledged(answer)

    posted = {item["external_id"] for body in batches for item in body["items"]}
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            counts = dict(
                connection.execute(
                    select(FeedbackItem.external_id, func.count()).group_by(
                        FeedbackItem.external_id
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert acknowledged == posted
    assert set(counts) == posted
    assert set(counts.values()) == {1}
