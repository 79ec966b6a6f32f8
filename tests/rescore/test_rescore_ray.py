"""The Ray engine writes the same rows as the local one."""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from service.rescore import EngineError, RescoreOptions, rescore

ray = pytest.importorskip("ray")

_TEXTS = [
    "Thanks, the new reports are great!",
    "Export failed again, this is really annoying.",
    "How do I change the billing contact?",
    "",
    "Die App stürzt ständig ab.",
    "Fine.",
]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _export(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["feedback_id", "comment"])
        for i in range(60):
            writer.writerow([f"f{59 - i:02d}", f"{_TEXTS[i % 6]}" + " ok" * (i % 3)])


def _rows(path: Path) -> list[dict[str, object]]:
    rows = pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: str(r["feedback_id"]))


# Ray Data warns about its own deprecated settings when it builds its context.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")
def test_rescore_on_ray_equals_the_local_engine(
    tmp_path: Path, local_ray: None
) -> None:
    source = tmp_path / "export.csv"
    _export(source)
    common = {"input": source, "batch_size": 16, "checkpoint_rows": 32, "quiet": True}
    local = rescore(RescoreOptions(output=tmp_path / "local.parquet", **common))
    on_ray = rescore(
        RescoreOptions(
            output=tmp_path / "ray.parquet",
            engine="ray",
            threads=1,
            ray_actors=2,
            **common,
        )
    )
    expected, found = _rows(local.output), _rows(on_ray.output)
    assert len(found) == len(expected) == 60
    for want, got in zip(expected, found, strict=True):
        assert want.keys() == got.keys()
        for key, value in want.items():
            if isinstance(value, float):
                assert math.isclose(value, got[key], abs_tol=1e-6), key
            else:
                assert got[key] == value, key
    assert on_ray.summary.errors == {"empty_text": 10}
    assert ray.is_initialized()  # a Ray it did not start is left running


def test_rescore_on_ray_without_ray_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "export.csv"
    _export(source)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    options = RescoreOptions(
        input=source, output=tmp_path / "out.parquet", engine="ray", quiet=True
    )
    with pytest.raises(EngineError) as caught:
        rescore(options)
    assert str(caught.value) == (
        "--engine ray needs Ray Data, which is not installed; install it with "
        "`pip install 'feedback-miner[ray]'` (or `pip install 'ray[data]'`)"
    )
