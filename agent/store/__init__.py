"""The store: SQLModel tables over SQLite (default) or PostgreSQL, migrated by Alembic.

``open_store(url)`` opens and migrates a database; ``Store.session()`` gives a
session that commits at the end of the block. The tables are in ``models``; the
helpers that must be race-free (items once per key, watermarks, leases) are in
``items`` and ``leases``; runs whose process died are closed by ``runs``; the activity
log's chain heads are kept by ``heads``.
"""

from agent.store.engine import Store, create_store_engine, head_revision, open_store
from agent.store.errors import MigrationError, StoreError
from agent.store.heads import StoreHeads, store_heads
from agent.store.items import (
    add_item,
    add_items,
    finish_run,
    get_item,
    get_watermark,
    new_run_id,
    set_watermark,
    start_run,
)
from agent.store.leases import acquire_lease, lease_holder, release_lease, renew_lease
from agent.store.models import (
    ApiToken,
    Decision,
    Grant,
    Item,
    ItemCreate,
    ItemKind,
    ItemStatus,
    Lease,
    LogHead,
    OutboxEntry,
    OutboxState,
    Review,
    ReviewAction,
    Role,
    Run,
    RunKind,
    RunStatus,
    SavedView,
    SweepTick,
    Takeover,
    TickKind,
    TickState,
    User,
    Watermark,
    WebSessionRow,
    WorkspacePause,
    item_key,
    status_after,
    text_hash,
)
from agent.store.runs import ClosedRun, close_stale_runs, process_alive, stale_limit
from agent.store.types import UTCDateTime, utcnow

__all__ = [
    "ApiToken",
    "ClosedRun",
    "Decision",
    "Grant",
    "Item",
    "ItemCreate",
    "ItemKind",
    "ItemStatus",
    "status_after",
    "Lease",
    "LogHead",
    "MigrationError",
    "OutboxEntry",
    "OutboxState",
    "Review",
    "ReviewAction",
    "Role",
    "Run",
    "RunKind",
    "RunStatus",
    "SavedView",
    "Store",
    "StoreError",
    "StoreHeads",
    "SweepTick",
    "Takeover",
    "TickKind",
    "TickState",
    "UTCDateTime",
    "User",
    "Watermark",
    "WebSessionRow",
    "WorkspacePause",
    "acquire_lease",
    "add_item",
    "add_items",
    "close_stale_runs",
    "create_store_engine",
    "finish_run",
    "get_item",
    "get_watermark",
    "head_revision",
    "item_key",
    "lease_holder",
    "new_run_id",
    "open_store",
    "process_alive",
    "release_lease",
    "renew_lease",
    "set_watermark",
    "stale_limit",
    "start_run",
    "store_heads",
    "text_hash",
    "utcnow",
]
