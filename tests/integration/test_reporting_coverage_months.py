"""The monitoring coverage's monthly sums (migration 0012): filled from the daily steps kept before, and read as
the months gone by plus the days of the reading month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from reporting.bootstrap import MIGRATIONS
from reporting.domain.referral_indicators import time_to
from tests.support.database import migrate

STEPS = [("2026-01-01", 1), ("2026-01-20", 1), ("2026-02-03", -1), ("2026-02-10", 1), ("2026-02-10", 0),
         ("2026-03-05", -1)]


def test_the_migration_sums_the_daily_steps_kept_before_by_month(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'reporting.db'}")
    with engine.begin() as connection:
        migrate(connection, MIGRATIONS, "0011")
        for day, value in STEPS:
            connection.execute(sa.text(
                "INSERT INTO coverage_counts VALUES ('open_cases_visited_90_days', 'ID', 'national', 'female', 2014,"
                " :day, :value) ON CONFLICT DO UPDATE SET value = value + excluded.value"),
                {"day": day, "value": value})
        migrate(connection, MIGRATIONS, "head")
        months = connection.execute(sa.text("SELECT month, value FROM coverage_month_counts ORDER BY month")).all()
    engine.dispose()
    assert [(str(month), value) for month, value in months] == [("2026-01-01", 2), ("2026-03-01", -1)]  # Feb nets 0


def test_a_time_from_issue_is_counted_to_the_nearest_minute() -> None:
    issued = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    minute = 60_000_000
    assert time_to(issued, issued + dt.timedelta(days=3, seconds=29, microseconds=999_999)) == 3 * 1440 * minute
    assert time_to(issued, issued + dt.timedelta(days=3, seconds=30)) == (3 * 1440 + 1) * minute
    assert time_to(issued, issued - dt.timedelta(seconds=90)) == -1 * minute  # half a minute rounds up
