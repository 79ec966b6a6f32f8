"""Theme trends: the two-proportion z-test, the emerging call, weekly buckets."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from scipy.stats import norm

from nlp.themes.trends import (
    MIN_NEW,
    Z_CRITICAL,
    Emergence,
    compare_windows,
    emergence,
    two_proportion_z,
    week_start,
    weekly_counts,
    window_counts,
)

UTC = dt.UTC


def test_two_proportion_z_matches_the_pooled_formula() -> None:
    # p1 = 0.3, p0 = 0.1, pooled 0.2: se = sqrt(0.2 * 0.8 * (1/100 + 1/100)).
    expected = (0.3 - 0.1) / math.sqrt(0.2 * 0.8 * 0.02)

    assert two_proportion_z(30, 100, 10, 100) == pytest.approx(expected, abs=1e-4)
    assert two_proportion_z(10, 100, 30, 100) == pytest.approx(-expected, abs=1e-4)


def test_two_proportion_z_critical_value_is_the_one_sided_5_percent() -> None:
    assert norm.sf(Z_CRITICAL) == pytest.approx(0.05, abs=1e-4)


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ((3, 10, 0, 0), "empty baseline"),
        ((0, 0, 3, 10), "empty current window"),
        ((5, 5, 7, 7), "pooled share of 1"),
        ((0, 5, 0, 7), "pooled share of 0"),
    ],
)
def test_two_proportion_z_is_none_where_undefined(
    counts: tuple[int, int, int, int], why: str
) -> None:
    assert two_proportion_z(*counts) is None, why


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        ((MIN_NEW, 10, 0, 50), "new"),
        ((MIN_NEW - 1, 100, 0, 50), None),
        ((30, 100, 10, 100), "grew"),
        ((12, 100, 10, 100), None),
        ((10, 100, 30, 100), None),
        ((0, 0, 0, 0), None),
    ],
    ids=["new", "too-few-new", "grew", "noise", "shrank", "nothing"],
)
def test_emergence_calls_new_and_grown_themes(
    counts: tuple[int, int, int, int], reason: str | None
) -> None:
    call = emergence(*counts)

    assert (call.emerging, call.reason) == (reason is not None, reason)
    assert (call.current, call.current_total) == counts[:2]
    assert (call.baseline, call.baseline_total) == counts[2:]


def test_compare_windows_counts_outliers_in_the_totals_only() -> None:
    current = {"a": 6, "b": 2, None: 2}
    baseline = {"b": 20, "c": 5, None: 15}

    calls = compare_windows(current, baseline)

    assert set(calls) == {"a", "b", "c"}
    assert calls["a"] == Emergence(
        emerging=True,
        reason="new",
        current=6,
        current_total=10,
        baseline=0,
        baseline_total=40,
        z=calls["a"].z,
    )
    assert calls["c"].current == 0 and not calls["c"].emerging


def test_window_counts_split_current_and_baseline() -> None:
    end = dt.datetime(2026, 10, 29, 12, tzinfo=UTC)
    times: list[dt.datetime | None] = [
        end,  # the latest item is in the current window
        end - dt.timedelta(days=28),  # the window's first instant
        end - dt.timedelta(days=28, seconds=1),
        end - dt.timedelta(days=300),
        None,
        end + dt.timedelta(days=1),  # after the end: in neither
    ]
    themes: list[int | None] = [1, 1, 1, None, 2, 2]

    current, baseline = window_counts(themes, times, end=end, window_days=28)
    _, bounded = window_counts(themes, times, end=end, window_days=28, baseline_days=28)

    assert current == {1: 2}
    assert baseline == {1: 1, None: 1}
    assert bounded == {1: 1}


@pytest.mark.parametrize(
    ("when", "monday"),
    [
        (dt.datetime(2026, 10, 5, 0, 0, tzinfo=UTC), dt.date(2026, 10, 5)),
        (dt.datetime(2026, 10, 11, 23, 59, tzinfo=UTC), dt.date(2026, 10, 5)),
        # Monday 01:00 at UTC+02:00 is still Sunday in UTC.
        (
            dt.datetime(2026, 10, 12, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.date(2026, 10, 5),
        ),
        (dt.datetime(2026, 10, 12, 1, 0), dt.date(2026, 10, 12)),
    ],
    ids=["monday", "sunday-night", "offset", "naive-is-utc"],
)
def test_week_start_is_the_utc_monday(when: dt.datetime, monday: dt.date) -> None:
    assert week_start(when) == monday


def test_weekly_counts_are_sorted_and_skip_missing_times() -> None:
    times = [
        dt.datetime(2026, 10, 14, tzinfo=UTC),
        None,
        dt.datetime(2026, 10, 1, tzinfo=UTC),
        dt.datetime(2026, 10, 13, tzinfo=UTC),
    ]

    assert weekly_counts(times) == {dt.date(2026, 9, 28): 1, dt.date(2026, 10, 12): 2}
    assert list(weekly_counts(times)) == sorted(weekly_counts(times))
