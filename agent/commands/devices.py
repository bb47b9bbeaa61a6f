"""``inbox-agent devices list|show|doctor``: the device inventory, who holds each device
now, and whether each device is ready for a sweep.

Holders come from the store's lease table (``agent.device_leases``); a home whose
database does not exist yet has no holders, and these commands never create it.
``doctor`` exits 1 when any check fails. Before it opens an Appium session it takes
a slot of the device, so it never opens a second session beside a sweep's (which
would end the sweep's); a device whose every slot is held is checked without one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from agent.commands.context import console, print_json, state
from agent.commands.db import missing_sqlite_file
from agent.errors import UserError

if TYPE_CHECKING:
    from agent.device_leases import SlotHolder
    from agent.store import Store
    from devices.doctor import Check, Doctor, Reach
    from devices.inventory import InventoryDevice
    from workspaces.paths import Home

app = typer.Typer(no_args_is_help=True, help="List, show and check Android devices.")

JsonOption = Annotated[bool, typer.Option("--json", help="JSON objects, one per line.")]


def _default_reach() -> Reach:
    from devices.doctor import default_reach

    return default_reach()


# How the doctor reaches devices; tests put fakes here.
reach_factory: Callable[[], Reach] = _default_reach
DOCTOR_LEASE_TTL_S = 120.0


def _inventory(home: Home) -> list[InventoryDevice]:
    from agent.config import load_catalog
    from devices.inventory import build_inventory

    catalog = load_catalog(home).raise_for_problems()
    return build_inventory(
        {key: loaded.model for key, loaded in catalog.devices.items()},
        [loaded.model for loaded in catalog.workspaces.values()],
        {key: loaded.model for key, loaded in catalog.selectors.items()},
        {key: str(loaded.doc.path) for key, loaded in catalog.devices.items()},
    )


def _one(devices: list[InventoryDevice], device_id: str) -> InventoryDevice:
    for device in devices:
        if device.id == device_id:
            return device
    known = ", ".join(d.id for d in devices) or "none"
    raise UserError(f"unknown device {device_id!r} (known: {known})")


@contextmanager
def _store(home: Home) -> Iterator[Store | None]:
    """The home's store if it exists (None when no database was created yet)."""
    from agent.store import open_store

    if missing_sqlite_file(home.db_url) is not None:
        yield None
        return
    with open_store(home.db_url, migrate=False) as store:
        yield store if store.current_revision() is not None else None


def _holders(home: Home, devices: list[InventoryDevice]) -> dict[str, list[SlotHolder]]:
    from agent.device_leases import device_holders

    with _store(home) as store:
        if store is None:
            return {}
        return {d.id: device_holders(store, d.entry) for d in devices}


def _held_text(holder: SlotHolder, now: datetime) -> str:
    left = max(0, round((holder.expires_at - now).total_seconds()))
    return (
        f"#{holder.slot} {holder.holder} on {holder.host} (pid {holder.pid}) since "
        f"{holder.since:%Y-%m-%d %H:%M:%S}Z, expires in {left} s"
    )


def _holder_data(holder: SlotHolder) -> dict[str, Any]:
    return {
        "slot": holder.slot,
        "holder": holder.holder,
        "host": holder.host,
        "pid": holder.pid,
        "since": holder.since.isoformat(),
        "expires_at": holder.expires_at.isoformat(),
    }


@app.command("list")
def list_devices(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the devices of the home, the workspaces on each, and who holds each now."""
    from rich.table import Table

    from agent.store.types import utcnow

    home = state(ctx).home
    devices = _inventory(home)
    holders = _holders(home, devices)
    now = utcnow()
    if as_json:
        for device in devices:
            held = holders.get(device.id, [])
            print_json(
                {
                    "id": device.id,
                    "driver": device.entry.driver,
                    "endpoint": device.endpoint(),
                    "max_sessions": device.entry.max_sessions,
                    "labels": device.entry.labels,
                    "workspaces": device.workspaces,
                    "held_by": [_holder_data(h) for h in held],
                }
            )
        return
    table = Table("device", "driver", "reached at", "sessions", "labels", "workspaces", "held by")
    for device in devices:
        held = holders.get(device.id, [])
        entry = device.entry
        table.add_row(
            device.id,
            entry.driver,
            device.endpoint(),
            f"{len(held)}/{entry.max_sessions} held",
            ", ".join(entry.labels),
            ", ".join(device.workspaces) or "none",
            Text("\n".join(_held_text(h, now) for h in held) or "free"),
        )
    console.print(table)
    if not devices:
        console.print(
            "no devices yet: add one under devices/ (`inbox-agent init` writes an example)"
        )


@app.command("show")
def show(
    ctx: typer.Context,
    device_id: Annotated[str, typer.Argument(metavar="ID", help="Device id.")],
    as_json: JsonOption = False,
) -> None:
    """Show one device in full: its entry, its workspaces and its slots."""
    from agent.store.types import utcnow

    home = state(ctx).home
    device = _one(_inventory(home), device_id)
    held = {h.slot: h for h in _holders(home, [device]).get(device.id, [])}
    data = device.describe()
    data["slots"] = [
        {"slot": slot, **(_holder_data(held[slot]) if slot in held else {"holder": None})}
        for slot in range(device.entry.max_sessions)
    ]
    if as_json:
        print_json(data)
        return
    entry, now = device.entry, utcnow()
    console.print(Text.assemble((device.id, "bold"), f" ({entry.driver}, {device.endpoint()})"))
    lines = [f"  file: {device.file}"]
    lines += [f"  {key}: {value}" for key, value in _entry_fields(device).items()]
    lines.append("  workspaces:" + ("" if device.uses else " none"))
    for use in device.uses:
        versions = ", ".join(use.app.versions) if use.app else "no app named"
        lines.append(f"    {use.workspace}: {use.app_package} (pack {use.pack}: {versions})")
    lines.append("  slots:")
    for slot in range(entry.max_sessions):
        text = _held_text(held[slot], now) if slot in held else f"#{slot} free"
        lines.append(f"    {text}")
    console.print("\n".join(lines), markup=False)


def _entry_fields(device: InventoryDevice) -> dict[str, str]:
    data = device.entry.model_dump(mode="json", exclude={"id", "driver"})
    shown = {}
    for key, value in data.items():
        if value in (None, [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        shown[key] = str(value)
    return shown


@app.command("doctor")
def doctor(
    ctx: typer.Context,
    device_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="Device id (default: every device).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that devices are reachable and ready: adb or Appium, state, screen, app versions.
    Exits 1 when a check fails; each failure says how to fix it."""
    from devices.doctor import Doctor, Status

    home = state(ctx).home
    devices = _inventory(home)
    if device_id is not None:
        devices = [_one(devices, device_id)]
    checks = _run_doctor(home, devices, Doctor(reach_factory()))
    failed = [c for c in checks if c.status is Status.FAIL]
    if as_json:
        for check in checks:
            print_json(check.as_dict())
    else:
        _print_checks(devices, checks)
        noun = "device" if len(devices) == 1 else "devices"
        verdict = f"{len(failed)} check(s) failed" if failed else "all checks passed"
        console.print(f"{len(devices)} {noun} checked: {verdict}", markup=False)
    if failed:
        raise typer.Exit(1)


def _run_doctor(home: Home, devices: list[InventoryDevice], doc: Doctor) -> list[Check]:
    from agent.device_leases import device_holders, try_lease_device
    from agent.store.types import this_host

    checks: list[Check] = []
    with _store(home) as store:
        for device in devices:
            if device.entry.driver != "appium" or store is None:
                checks.extend(doc.check(device))
                continue
            holder = f"devices doctor (pid {os.getpid()} on {this_host()})"
            lease = try_lease_device(store, device.entry, holder, ttl_s=DOCTOR_LEASE_TTL_S)
            if lease is None:
                held = device_holders(store, device.entry)
                checks.extend(doc.check(device, in_use_by=", ".join(h.holder for h in held)))
                continue
            with lease.start_heartbeat():  # a session on a grid may take a while to open
                checks.extend(doc.check(device))
    return checks


# Keyed by devices.doctor.Status (a StrEnum: its members are these strings).
STATUS_STYLE = {
    "ok": ("ok", "green"),
    "fail": ("FAIL", "bold red"),
    "skip": ("skip", "dim"),
}


def _print_checks(devices: list[InventoryDevice], checks: list[Check]) -> None:
    for device in devices:
        console.print(
            Text.assemble((device.id, "bold"), f" ({device.entry.driver}, {device.endpoint()})")
        )
        for check in (c for c in checks if c.device == device.id):
            label, style = STATUS_STYLE[check.status]
            about = f"{check.workspace}: " if check.workspace else ""
            console.print(
                Text.assemble(
                    "  ", (f"{label:<4}", style), f"  {check.kind:<7} {about}{check.message}"
                )
            )
            if check.fix:
                console.print(Text(f"        {'':<7} fix: {check.fix}"))
