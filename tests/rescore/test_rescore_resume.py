"""A rescoring run killed at any moment continues where it stopped, with every
row in the output exactly once."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlp.analysis import Analyzer
from service.rescore import RescoreOptions, rescore
from service.rescore.checkpoint import Checkpoint, state_folder
from service.rescore.errors import ResumeError

_CLI = Path(sys.executable).parent / "feedback-miner"
_OPENINGS = [
    "The report export keeps failing",
    "Support answered quickly and kindly",
    "I cannot find the billing settings",
    "Love the new dashboard",
    "The sync is slow since the update",
]


def _export(path: Path, rows: int) -> list[str]:
    ids = [f"t-{i:05d}" for i in range(rows)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ticket_id", "text"])
        for i, ticket in enumerate(ids):
            writer.writerow([ticket, f"{_OPENINGS[i % 5]} (case {i})."])
    return ids


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_gone(pids: list[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if _running(p)]
    assert not alive, f"worker processes {alive} outlived the killed job"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _manifest_rows(out: Path) -> int:
    try:
        manifest = json.loads((state_folder(out) / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return 0
    rows: int = manifest["rows"]
    return rows


def test_rescore_killed_midway_resumes_with_every_row_once(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    source = tmp_path / "export.csv"
    ids = _export(source, 1500)
    out = tmp_path / "scored.parquet"
    command = [str(_CLI), "rescore", str(source), "--out", str(out), "--quiet"]
    command += ["--batch-size", "50", "--checkpoint-rows", "100", "--threads", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while _manifest_rows(out) < 300 and process.poll() is None:
        assert time.monotonic() < deadline, "the first run made no progress"
        time.sleep(0.05)
    workers = _children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    _wait_gone(workers)  # worker processes do not outlive the job
    done = _manifest_rows(out)
    assert 300 <= done < len(ids), "the run was not killed midway"
    assert not out.exists()

    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr

    table = pq.read_table(out)
    assert table.column("ticket_id").to_pylist() == ids  # each once, in order
    assert table.column("error").null_count == table.num_rows
    sample = [0, done - 1, done, len(ids) - 1]  # around the cut, and the ends
    texts = [f"{_OPENINGS[i % 5]} (case {i})." for i in sample]
    for i, analysis in zip(sample, analyzer.analyze_many(texts), strict=True):
        assert analysis.polarity is not None
        assert table.column("polarity")[i].as_py() == analysis.polarity.label
        assert table.column("polarity_score")[i].as_py() == pytest.approx(
            analysis.polarity.score, abs=1e-6
        )
    assert not state_folder(out).exists()


def test_checkpoint_drops_a_part_the_manifest_does_not_list(tmp_path: Path) -> None:
    folder = tmp_path / "out.parquet.partial"
    checkpoint = Checkpoint.open(folder, {"input": "a.csv"})
    checkpoint.add(pa.table({"__row": [0, 1]}))
    # A kill after the part's rename and before the manifest's: the part is a stray.
    pq.write_table(pa.table({"__row": [2, 3]}), folder / "part-000001.parquet")
    reopened = Checkpoint.open(folder, {"input": "a.csv"})
    assert reopened.rows_done == 2
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "part-000000.parquet",
    ]
    reopened.add(pa.table({"__row": [2, 3]}))
    rows = [r for t in reopened.iter_tables() for r in t.column("__row").to_pylist()]
    assert rows == [0, 1, 2, 3]


def test_rescore_resumes_in_process_after_a_partial_run(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    ids = _export(source, 40)
    out = tmp_path / "scored.csv"
    options = RescoreOptions(
        input=source, output=out, batch_size=10, checkpoint_rows=10, quiet=True
    )

    class Stop(Exception):
        pass

    def stop_after_two_parts(self: Checkpoint, table: pa.Table) -> None:
        original_add(self, table)
        if len(self.parts) == 2:
            raise Stop

    original_add = Checkpoint.add
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Checkpoint, "add", stop_after_two_parts)
        with pytest.raises(Stop):
            rescore(options)
    assert _manifest_rows(out) == 20
    result = rescore(options)
    assert result.resumed_rows == 20
    assert result.summary.rows == 40
    assert result.summary.rows_this_run == 20
    with out.open(encoding="utf-8") as f:
        assert [r["ticket_id"] for r in csv.DictReader(f)] == ids


def _saved_progress(tmp_path: Path) -> Path:
    folder = tmp_path / "out.parquet.partial"
    checkpoint = Checkpoint.open(folder, {"input": "a.csv"})
    checkpoint.add(pa.table({"__row": [0, 1]}))
    checkpoint.add(pa.table({"__row": [2, 3]}))
    return folder


@pytest.mark.parametrize(
    ("damage", "named", "why"),
    [
        ("cut manifest", "manifest.json", "not readable JSON"),
        ("manifest list", "manifest.json", "not a JSON object"),
        ("manifest parts", "manifest.json", "part entry 0 is not valid"),
        ("no version", "manifest.json", "it names no version"),
        ("outside", "manifest.json", "part entry 1 is not valid"),
        ("cut part", "part-000001.parquet", "not a readable part file"),
        ("deleted part", "part-000001.parquet", "the file is missing"),
        ("other part", "part-000001.parquet", "3 rows where the manifest lists 2"),
        ("copied part", "part-000001.parquet", "it holds rows 0-1 where the manife"),
    ],
)
def test_damaged_progress_is_named_with_a_way_out(
    tmp_path: Path, damage: str, named: str, why: str
) -> None:
    folder = _saved_progress(tmp_path)
    manifest, part = folder / "manifest.json", folder / "part-000001.parquet"
    if damage == "cut manifest":
        manifest.write_text(manifest.read_text()[:40])
    elif damage == "manifest list":
        manifest.write_text("[]")
    elif damage == "manifest parts":
        saved = json.loads(manifest.read_text())
        saved["parts"] = [{"name": "part-000000.parquet"}]
        manifest.write_text(json.dumps(saved))
    elif damage == "no version":
        manifest.write_text("{}")
    elif damage == "outside":
        saved = json.loads(manifest.read_text())
        saved["parts"][1]["name"] = "../../export.csv"
        manifest.write_text(json.dumps(saved))
    elif damage == "copied part":
        part.write_bytes((folder / "part-000000.parquet").read_bytes())
    elif damage == "cut part":
        part.write_bytes(part.read_bytes()[:100])
    elif damage == "deleted part":
        part.unlink()
    else:
        pq.write_table(pa.table({"__row": [2, 3, 4]}), part)

    with pytest.raises(ResumeError) as caught:
        Checkpoint.open(folder, {"input": "a.csv"})
    message = str(caught.value)
    assert message.startswith(f"{folder / named}: saved progress is damaged ({why}")
    assert message.endswith("pass --restart to start over")
    assert Checkpoint.open(folder, {"input": "a.csv"}, restart=True).rows_done == 0


def test_a_progress_folder_with_other_files_is_never_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "out.parquet.partial"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for restart in (False, True):
        with pytest.raises(ResumeError, match=r"holds files that are not saved prog"):
            Checkpoint.open(folder, {"input": "a.csv"}, restart=restart)
    assert (folder / "notes.txt").read_text() == "mine"


def test_changed_arguments_are_named_as_the_user_knows_them(tmp_path: Path) -> None:
    _saved_progress(tmp_path)
    changed = {"input": "a.csv", "input_size": 9, "input_mtime_ns": 1, "max_chars": 5}
    with pytest.raises(ResumeError) as caught:
        Checkpoint.open(tmp_path / "out.parquet.partial", changed)
    assert "(differs: --max-chars, the input file's contents)" in str(caught.value)


def test_a_damaged_saved_theme_model_is_named_on_resume(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    _export(source, 40)
    out = tmp_path / "scored.parquet"
    options = RescoreOptions(
        input=source,
        output=out,
        batch_size=10,
        checkpoint_rows=10,
        quiet=True,
        workers=1,
        themes=True,
        theme_sample=100,
        min_cluster_size=5,
    )

    class Stop(Exception):
        pass

    def stop_after_one_part(self: Checkpoint, table: pa.Table) -> None:
        original_add(self, table)
        raise Stop

    original_add = Checkpoint.add
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Checkpoint, "add", stop_after_one_part)
        with pytest.raises(Stop):
            rescore(options)
    saved = state_folder(out) / "themes.json"
    assert json.loads(saved.read_text())["themes"]  # the fitted model, as a file
    saved.write_text(saved.read_text()[:50])

    with pytest.raises(ResumeError) as caught:
        rescore(options)
    message = str(caught.value)
    assert message.startswith(f"saved progress is damaged: {saved}: not a theme mo")
    assert message.endswith("pass --restart to start over")
