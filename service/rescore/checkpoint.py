"""Saved progress of a job, so that a killed run continues where it stopped.

The scored rows go to numbered Parquet part files in a folder next to the output
(``reviews.scored.parquet.partial/``), and ``manifest.json`` there lists the
parts that are complete. Writing a part is, in order: write ``part-N.tmp``,
fsync it, rename it to ``part-N.parquet``, fsync the folder; then write the new
manifest the same way (temporary file, fsync, rename). A kill at any moment so
leaves either the old manifest, and a part it does not list (deleted on the next
run, whose rows are scored again), or the new one: no row is lost or written
twice.

The manifest also holds a fingerprint of the job (the input's path, size and
modification time, and every argument that changes the output); a run whose
fingerprint differs refuses to continue, unless told to start over.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.rescore.errors import ResumeError
from service.rescore.scoring import ROW

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MANIFEST_VERSION", "THEMES_FILE", "Checkpoint", "Part", "state_folder"]

logger = logging.getLogger(__name__)

MANIFEST_VERSION = "rescore-manifest.v1"
_MANIFEST = "manifest.json"
THEMES_FILE = "themes.json"  # the fitted theme model of a job with --themes fit


@dataclass(frozen=True)
class Part:
    """One complete part file: its name, first record and number of rows."""

    name: str
    first_row: int
    rows: int


def state_folder(output: Path) -> Path:
    """The folder holding a job's parts and manifest, next to its output."""
    return output.with_name(output.name + ".partial")


class Checkpoint:
    """The parts written so far, and the fingerprint they belong to.

    Use :meth:`open`; then :meth:`add` each scored table in record order.
    """

    def __init__(self, folder: Path, fingerprint: dict[str, Any]) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.parts: list[Part] = []
        self.complete = False

    @classmethod
    def open(
        cls, folder: Path, fingerprint: dict[str, Any], *, restart: bool = False
    ) -> Checkpoint:
        """Continue the progress saved in ``folder``, or start it.

        Args:
            folder: The state folder (see :func:`state_folder`).
            fingerprint: What the output depends on; JSON-serializable.
            restart: Discard any saved progress.

        Raises:
            ResumeError: If saved progress has another fingerprint and
                ``restart`` is false, if it is damaged, or if ``folder`` holds
                files that are not saved progress (never deleted).
        """
        manifest = folder / _MANIFEST
        if folder.exists():
            _check_is_state_folder(folder)
        if restart and folder.exists():
            shutil.rmtree(folder)
        checkpoint = cls(folder, fingerprint)
        if manifest.exists():
            checkpoint._load(_read_manifest(manifest))
            checkpoint._check_parts()
        else:
            folder.mkdir(parents=True, exist_ok=True)
            checkpoint._save()
        checkpoint._remove_strays()
        return checkpoint

    @property
    def rows_done(self) -> int:
        """Records scored and saved, from the start of the input."""
        return sum(p.rows for p in self.parts)

    def add(self, table: pa.Table) -> None:
        """Save ``table`` as the next part; it must start at :attr:`rows_done`."""
        import pyarrow.parquet as pq

        name = f"part-{len(self.parts):06d}.parquet"
        tmp = self.folder / (name + ".tmp")
        with tmp.open("wb") as f:
            pq.write_table(table, f, compression="zstd")
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.folder / name)
        _fsync_folder(self.folder)
        self.parts.append(Part(name, self.rows_done, table.num_rows))
        self._save()

    def mark_complete(self) -> None:
        """Record that the whole input is scored."""
        self.complete = True
        self._save()

    def iter_tables(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """The saved parts, in order."""
        import pyarrow.parquet as pq

        for part in self.parts:
            yield pq.read_table(self.folder / part.name, columns=columns)

    def remove(self) -> None:
        """Delete the state folder."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _load(self, manifest: Mapping[str, Any]) -> None:
        version = manifest.get("version")
        if version is None:
            raise _damaged(self.folder / _MANIFEST, "it names no version")
        if version != MANIFEST_VERSION:
            raise ResumeError(
                f"{self.folder}: saved progress of version {version!r}, expected "
                f"{MANIFEST_VERSION!r}; pass --restart to start over"
            )
        saved, parts = _entries(manifest, self.folder / _MANIFEST)
        changed = sorted(
            {
                _DESCRIBED.get(k, k)
                for k in set(saved) | set(self.fingerprint)
                if saved.get(k) != self.fingerprint.get(k)
            }
        )
        if changed:
            raise ResumeError(
                f"{self.folder} holds the progress of a run with another input or "
                f"other arguments (differs: {', '.join(changed)}); run again with "
                "the same arguments, or pass --restart to start over"
            )
        self.parts = parts
        self.complete = bool(manifest.get("complete"))
        logger.info(
            "resuming after %d rows in %d parts", self.rows_done, len(self.parts)
        )

    def _check_parts(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for part in self.parts:
            path = self.folder / part.name
            try:
                rows = pq.read_table(path, columns=[ROW]).column(ROW)
            except FileNotFoundError:
                raise _damaged(path, "the file is missing") from None
            except (OSError, KeyError, pa.ArrowException) as e:
                raise _damaged(path, f"not a readable part file: {e}") from None
            if len(rows) != part.rows:
                raise _damaged(
                    path, f"{len(rows)} rows where the manifest lists {part.rows}"
                )
            if part.rows and (
                rows[0].as_py() != part.first_row
                or rows[-1].as_py() != part.first_row + part.rows - 1
            ):
                raise _damaged(
                    path,
                    f"it holds rows {rows[0].as_py()}-{rows[-1].as_py()} where the "
                    f"manifest lists {part.first_row}-{part.first_row + part.rows - 1}",
                )

    def _save(self) -> None:
        manifest = {
            "version": MANIFEST_VERSION,
            "fingerprint": self.fingerprint,
            "parts": [asdict(p) for p in self.parts],
            "rows": self.rows_done,
            "complete": self.complete,
        }
        tmp = self.folder / (_MANIFEST + ".tmp")
        with tmp.open("w") as f:
            json.dump(manifest, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.folder / _MANIFEST)
        _fsync_folder(self.folder)

    def _remove_strays(self) -> None:
        # Parts written by a run killed before it could list them in the manifest.
        listed = {p.name for p in self.parts} | {_MANIFEST}
        for path in self.folder.iterdir():
            if path.name.startswith("part-") and path.name not in listed:
                path.unlink()


# Fingerprint entries as a user would name them.
_DESCRIBED = {
    "input": "the input file",
    "input_size": "the input file's contents",
    "input_mtime_ns": "the input file's contents",
    "text_column": "--text-column",
    "id_column": "--id-column",
    "time_column": "--time-column",
    "account_column": "--account-column",
    "encoding": "--encoding",
    "delimiter": "--delimiter",
    "header": "--no-header",
    "themes": "--themes",
    "theme_sample": "--theme-sample",
    "theme_model": "the contents of the --themes model file",
    "min_cluster_size": "--min-cluster-size",
    "max_chars": "--max-chars",
    "model_version": "the model version",
}

# What a state folder may hold besides part files.
_STATE_FILES = {_MANIFEST, THEMES_FILE} | {f"{n}.tmp" for n in (_MANIFEST, THEMES_FILE)}


def _check_is_state_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ResumeError(
            f"{folder} exists and is not a folder of saved progress; move it away "
            "or choose another --out"
        )
    foreign = [
        p.name
        for p in folder.iterdir()
        if p.name not in _STATE_FILES and not p.name.startswith("part-")
    ]
    if foreign:
        named = ", ".join(sorted(foreign)[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ResumeError(
            f"{folder} holds files that are not saved progress ({named}); move them "
            "away or choose another --out"
        )


_PART_NAME = re.compile(r"part-\d{6}\.parquet")


def _entries(
    manifest: Mapping[str, Any], path: Path
) -> tuple[dict[str, Any], list[Part]]:
    # The fingerprint and the parts, checked: names inside the folder, and each
    # part starting where the one before it ends.
    fingerprint, listed = manifest.get("fingerprint"), manifest.get("parts")
    if not isinstance(fingerprint, dict):
        raise _damaged(path, "its fingerprint is missing or not an object")
    if not isinstance(listed, list):
        raise _damaged(path, "its list of parts is missing or not a list")
    parts: list[Part] = []
    expected = 0  # the first row of the next part
    for number, entry in enumerate(listed):
        entry = entry if isinstance(entry, dict) else {}
        name, first, rows = (entry.get(k) for k in ("name", "first_row", "rows"))
        if (
            not isinstance(name, str)
            or not _PART_NAME.fullmatch(name)
            or not isinstance(first, int)
            or not isinstance(rows, int)
            or first != expected
            or rows < 0
        ):
            raise _damaged(path, f"part entry {number} is not valid")
        parts.append(Part(name, first, rows))
        expected += rows
    return fingerprint, parts


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _damaged(path, f"not readable JSON: {e}") from None
    if not isinstance(manifest, dict):
        raise _damaged(path, "not a JSON object")
    return manifest


def _damaged(path: Path, why: str) -> ResumeError:
    return ResumeError(
        f"{path}: saved progress is damaged ({why}); pass --restart to start over"
    )


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
