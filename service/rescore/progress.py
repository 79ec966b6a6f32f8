"""Progress of a long run: a bar on a terminal, plain lines otherwise.

The position is how far into the input the job is (bytes of a text file, rows of
a Parquet file), which gives a fair ETA without counting the rows first; the rate
is rows scored per second by this run.
"""

from __future__ import annotations

import time
from typing import IO, Protocol

__all__ = ["PlainProgress", "Progress", "SilentProgress", "make_progress"]


class Progress(Protocol):
    """What the job reports its progress to."""

    def update(self, position: int, rows: int) -> None:
        """Report the position in the input and the rows done (in total)."""

    def close(self) -> None:
        """End the display."""


def make_progress(
    stream: IO[str],
    *,
    total: int,
    start_position: int = 0,
    start_rows: int = 0,
    quiet: bool = False,
) -> Progress:
    """A rich progress bar when ``stream`` is a terminal, else plain lines.

    Args:
        stream: Where to draw (standard error for the CLI).
        total: The input's size in position units.
        start_position: The position a resumed run starts from.
        start_rows: The rows already done by earlier runs.
        quiet: Show nothing.
    """
    if quiet:
        return SilentProgress()
    if stream.isatty():
        return _RichProgress(stream, total, start_position, start_rows)
    return PlainProgress(stream, total, start_position, start_rows)


class SilentProgress:
    """Shows nothing."""

    def update(self, position: int, rows: int) -> None:
        """Ignore the report."""

    def close(self) -> None:
        """Nothing to end."""


class PlainProgress:
    """One line every ``every_s`` seconds, for logs and pipes.

    Args:
        stream: Where to write.
        total: The input's size in position units.
        start_position: The position a resumed run starts from.
        start_rows: The rows already done by earlier runs.
        every_s: Least seconds between two lines.
    """

    def __init__(
        self,
        stream: IO[str],
        total: int,
        start_position: int = 0,
        start_rows: int = 0,
        *,
        every_s: float = 10.0,
    ) -> None:
        self._stream = stream
        self._clock = _Clock(total, start_position, start_rows)
        self._every_s = every_s
        self._last = time.monotonic()

    def update(self, position: int, rows: int) -> None:
        """Write a line if the last one is old enough."""
        now = time.monotonic()
        if now - self._last >= self._every_s:
            self._last = now
            self._stream.write(self._clock.line(position, rows) + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Nothing to end: lines are complete."""


class _RichProgress:
    def __init__(
        self, stream: IO[str], total: int, start_position: int, start_rows: int
    ) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._clock = _Clock(total, start_position, start_rows)
        self._bar = Bar(
            TextColumn("rescoring"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[rate]:>7,.0f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._bar.add_task(
            "rescore", total=total, completed=start_position, rows=start_rows, rate=0.0
        )
        self._bar.start()

    def update(self, position: int, rows: int) -> None:
        self._bar.update(
            self._task, completed=position, rows=rows, rate=self._clock.rate(rows)
        )

    def close(self) -> None:
        self._bar.stop()


class _Clock:
    """Rate and time left from the position and rows of this run."""

    def __init__(self, total: int, start_position: int, start_rows: int) -> None:
        self.total = max(total, 1)
        self.start_position = start_position
        self.start_rows = start_rows
        self.started = time.monotonic()

    def rate(self, rows: int) -> float:
        elapsed = time.monotonic() - self.started
        return (rows - self.start_rows) / elapsed if elapsed > 0 else 0.0

    def line(self, position: int, rows: int) -> str:
        elapsed = time.monotonic() - self.started
        done = position - self.start_position
        left = (self.total - position) * elapsed / done if done > 0 else None
        eta = f", about {_minutes(left)} left" if left is not None else ""
        share = 100 * position / self.total
        return (
            f"rescore: {rows:,} rows, {share:.0f}% of the input, "
            f"{self.rate(rows):,.0f} rows/s{eta}"
        )


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"
