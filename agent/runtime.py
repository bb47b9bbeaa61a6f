"""What a command needs to act on a home: its checked catalog, store and activity log."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.config import Catalog, load_catalog
from agent.store import ClosedRun, Store, close_stale_runs, open_store, stale_limit, store_heads
from agent.sweep import Sweeper
from runlogs import ActivityLog
from workspaces.paths import Home

if TYPE_CHECKING:  # the triage pipeline (numpy, the model) loads only when a command needs it
    from agent.decide import SweepTriage


@dataclass
class Runtime:
    home: Home
    catalog: Catalog
    store: Store
    log: ActivityLog
    _triage: SweepTriage | None = field(default=None, repr=False)

    def triage(self) -> SweepTriage:
        """Triage for this home's workspaces (their pipelines are built once, on first use)."""
        if self._triage is None:
            from agent.decide import SweepTriage

            workspaces = {k: v.model for k, v in self.catalog.workspaces.items()}
            self._triage = SweepTriage(self.home, workspaces, self.store, self.log)
        return self._triage

    def sweeper(self, *, triage: bool = True, **options: Any) -> Sweeper:
        """A Sweeper for this home; new items are triaged as they are stored (``triage``)."""
        if triage and "on_item" not in options:
            options["on_item"] = self.triage()
        return Sweeper(self.home, self.catalog, self.store, self.log, **options)


def home_log(home: Home, store: Store | None) -> ActivityLog:
    """The home's activity log: keyed with the home's key, its chain heads in ``store``."""
    heads = store_heads(store) if store is not None else None
    return ActivityLog(home.logs_dir, key_file=home.log_key_file, heads=heads)


def stale_run_limit(home: Home) -> Callable[[str], float]:
    """How long a run of another host may last, per workspace (``stale_limit``), from the
    home's flows; the configuration is loaded only when a limit is asked for."""
    catalog = _lazy_catalog(home)
    return lambda workspace: stale_limit(catalog(), workspace)


def _lazy_catalog(home: Home) -> Callable[[], Catalog | None]:
    @functools.cache
    def catalog() -> Catalog | None:
        try:
            return load_catalog(home)
        except Exception:  # noqa: BLE001 - a configuration that cannot load: the defaults
            return None

    return catalog


def close_dead_runs(
    home: Home, store: Store, log: Any, *, workspace: str | None = None
) -> list[ClosedRun]:
    """``close_stale_runs`` as the CLI does it: the home's limits, and each closed sweep's
    ``sweep.stopped`` webhook recorded in the closing transaction."""
    from agent.webhooks.events import crashed_runs

    catalog = _lazy_catalog(home)

    def platform(ws: str) -> str | None:
        loaded = catalog()
        return None if loaded is None else loaded.platform_of(ws)

    return close_stale_runs(
        store,
        log,
        workspace=workspace,
        limit_s=lambda ws: stale_limit(catalog(), ws),
        on_closed=crashed_runs(platform),
    )


def open_runtime(home: Home) -> Runtime:
    """Load and check the configuration, then open (and migrate) the store."""
    catalog = load_catalog(home).raise_for_problems()
    home.ensure()
    store = open_store(home.db_url)
    return Runtime(home, catalog, store, home_log(home, store))
