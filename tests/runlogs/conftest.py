"""Shared helpers for the activity log tests: a settable clock and a small log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runlogs import ActivityLog


class FakeClock:
    """A clock that advances one millisecond per reading unless set."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def logs_dir(tmp_path: Path) -> Path:
    return tmp_path / "home" / "logs"


@pytest.fixture
def log(logs_dir: Path, clock: FakeClock) -> ActivityLog:
    return ActivityLog(logs_dir, clock=clock)
