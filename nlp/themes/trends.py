"""Theme trends: weekly buckets and the test that calls a theme emerging.

A theme is *emerging* when it is new or when its share of the items grew from a
baseline window to the current one:

- ``new``: no item in the baseline and at least :data:`MIN_NEW` in the current
  window;
- ``grew``: a one-sided two-proportion z-test with pooled variance finds the
  theme's share of the current window larger than its share of the baseline at
  p < 0.05, i.e. z >= :data:`Z_CRITICAL` (Agresti, *Categorical Data Analysis*,
  3rd ed., sec. 1.4; pooling is the usual choice under the null of equal
  proportions).

Shares are of all items in the window, outliers included, so that a theme that
absorbs former outliers reads as growing. Each :class:`Emergence` carries both
windows' counts and totals, so a reader can check the call.

Pure functions over counts and times: the service feeds them database counts, the
``themes`` command feeds them the labels and times of an export.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "MIN_NEW",
    "Z_CRITICAL",
    "Emergence",
    "compare_windows",
    "emergence",
    "two_proportion_z",
    "week_start",
    "weekly_counts",
    "window_counts",
]

MIN_NEW = 3
Z_CRITICAL = 1.645  # one-sided, alpha = 0.05

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Emergence:
    """The emerging call for one theme and the counts behind it.

    Attributes:
        emerging: Whether the theme is new or grew.
        reason: ``"new"``, ``"grew"``, or None when not emerging.
        current: The theme's items in the current window.
        current_total: All items in the current window.
        baseline: The theme's items in the baseline window.
        baseline_total: All items in the baseline window.
        z: The z statistic, or None when a window is empty or the pooled
            proportion is 0 or 1 (the test is undefined there).
    """

    emerging: bool
    reason: str | None
    current: int
    current_total: int
    baseline: int
    baseline_total: int
    z: float | None


def two_proportion_z(
    current: int, current_total: int, baseline: int, baseline_total: int
) -> float | None:
    """Return the pooled two-proportion z statistic of current over baseline.

    Args:
        current: Successes in the current window.
        current_total: Trials in the current window.
        baseline: Successes in the baseline window.
        baseline_total: Trials in the baseline window.

    Returns:
        ``(p1 - p0) / se`` rounded to 4 places, positive when the share grew; None
        when either window is empty or the standard error is 0.
    """
    if not current_total or not baseline_total:
        return None
    pooled = (current + baseline) / (current_total + baseline_total)
    se = math.sqrt(pooled * (1 - pooled) * (1 / current_total + 1 / baseline_total))
    if se == 0:
        return None
    return round((current / current_total - baseline / baseline_total) / se, 4)


def emergence(
    current: int,
    current_total: int,
    baseline: int,
    baseline_total: int,
    *,
    min_new: int = MIN_NEW,
    z_critical: float = Z_CRITICAL,
) -> Emergence:
    """Decide whether one theme is emerging from its two windows' counts.

    Args:
        current: The theme's items in the current window.
        current_total: All items in the current window.
        baseline: The theme's items in the baseline window.
        baseline_total: All items in the baseline window.
        min_new: Fewest current items for a theme absent from the baseline.
        z_critical: The z a growing share must reach.

    Returns:
        The call, with the counts and z.
    """
    z = two_proportion_z(current, current_total, baseline, baseline_total)
    reason = None
    if baseline == 0 and current >= min_new:
        reason = "new"
    elif z is not None and z >= z_critical:
        reason = "grew"
    return Emergence(
        emerging=reason is not None,
        reason=reason,
        current=current,
        current_total=current_total,
        baseline=baseline,
        baseline_total=baseline_total,
        z=z,
    )


def compare_windows(
    current: Mapping[K | None, int], baseline: Mapping[K | None, int]
) -> dict[K, Emergence]:
    """Call every theme seen in either window emerging or not.

    Args:
        current: Items per theme in the current window; the key None (outliers)
            counts in the total only.
        baseline: The same for the baseline window.

    Returns:
        One :class:`Emergence` per theme key other than None.
    """
    current_total, baseline_total = sum(current.values()), sum(baseline.values())
    return {
        theme: emergence(
            current.get(theme, 0),
            current_total,
            baseline.get(theme, 0),
            baseline_total,
        )
        for theme in set(current) | set(baseline)
        if theme is not None
    }


def window_counts(
    themes: Sequence[K | None],
    times: Sequence[dt.datetime | None],
    *,
    end: dt.datetime,
    window_days: int = 28,
    baseline_days: int | None = None,
) -> tuple[Counter[K | None], Counter[K | None]]:
    """Count items per theme in the current window and in the baseline before it.

    The current window is the ``window_days`` ending at ``end``, both ends
    included, so the latest item of an export counts; the baseline is the
    ``baseline_days`` before it, or everything before it when None. Items without
    a time, or after ``end``, count in neither.

    Args:
        themes: Each item's theme key (None for an outlier).
        times: Each item's time, aligned with ``themes``.
        end: The end of the current window.
        window_days: Length of the current window.
        baseline_days: Length of the baseline window; None for all earlier items.

    Returns:
        The current and the baseline counts per theme key.
    """
    start = end - dt.timedelta(days=window_days)
    floor = None if baseline_days is None else start - dt.timedelta(days=baseline_days)
    current: Counter[K | None] = Counter()
    baseline: Counter[K | None] = Counter()
    for theme, when in zip(themes, times, strict=True):
        if when is None or when > end:
            continue
        if when >= start:
            current[theme] += 1
        elif floor is None or when >= floor:
            baseline[theme] += 1
    return current, baseline


def week_start(when: dt.datetime) -> dt.date:
    """Return the Monday that starts the ISO week of ``when``, in UTC.

    A naive time is taken to be UTC already.
    """
    day = (when.astimezone(dt.UTC) if when.tzinfo else when).date()
    return day - dt.timedelta(days=day.weekday())


def weekly_counts(times: Iterable[dt.datetime | None]) -> dict[dt.date, int]:
    """Count times per ISO week (keyed by its Monday, UTC), oldest week first.

    Args:
        times: The times; None entries are skipped.

    Returns:
        Monday → count, for the weeks that have any.
    """
    weeks = Counter(week_start(when) for when in times if when is not None)
    return dict(sorted(weeks.items()))
