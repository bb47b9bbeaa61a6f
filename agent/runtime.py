"""What a command needs to act on a home: its checked catalog, store and activity log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.config import Catalog, load_catalog
from agent.store import Store, open_store
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


def open_runtime(home: Home) -> Runtime:
    """Load and check the configuration, then open (and migrate) the store."""
    catalog = load_catalog(home).raise_for_problems()
    home.ensure()
    return Runtime(home, catalog, open_store(home.db_url), ActivityLog(home.logs_dir))
