"""Taking a workspace's live session over and handing it back, with its device.

The takeover row (``agent.review.actions``) makes sweeps and the outbox leave the
workspace alone; for an Android workspace the takeover also holds a slot of its
device in the store, so no sweep of another workspace on the same phone runs while
a person uses it. Handing back frees the slot. The CLI and the review UI both come
through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.device_leases import hold_for_takeover, release_takeover
from agent.review import actions
from agent.runtime import Runtime
from agent.store import Takeover, User


@dataclass
class TakenOver:
    takeover: Takeover
    device: str | None = None  # the device id, for an Android workspace
    device_held: bool = False  # False: a sweep still holds it; it is the person's once it ends


def take_over(rt: Runtime, workspace: str, user: User) -> TakenOver:
    held = actions.take_over(rt.store, workspace, user, log=rt.log)
    device = rt.catalog.device_of(workspace)
    if device is None:
        return TakenOver(held)
    lease = hold_for_takeover(rt.store, device, workspace, held.id)
    rt.log.append(workspace, "device_held", device=device.id, held=lease is not None)
    return TakenOver(held, device.id, lease is not None)


def hand_back(rt: Runtime, workspace: str, user: User) -> Takeover:
    held = actions.hand_back(rt.store, workspace, user, log=rt.log)
    device = rt.catalog.device_of(workspace)
    if device is not None and release_takeover(rt.store, device, workspace, held.id):
        rt.log.append(workspace, "device_released", device=device.id)
    return held
