"""Saved real pages (read from ``shared/data/web_html``, never copied here), a replay
server for them, and the browser marker for the whole directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .replay import ReplayServer, default_data_dir, missing_files, replaying


def _skip_reason() -> str | None:
    folder = default_data_dir()
    missing = missing_files(folder)
    if not missing:
        return None
    return f"saved real pages not found: {', '.join(missing)} missing from {folder}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = _skip_reason()
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def web_html() -> Path:
    """The shared folder of saved pages (skips the test when it or a page is missing)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return default_data_dir()


@pytest.fixture(scope="session")
def replay(web_html: Path) -> Iterator[ReplayServer]:
    """One replay server for the session: ``replay.url`` + ``/facebook/story.php`` etc."""
    with replaying(web_html) as server:
        yield server
