"""The development package behind ``triage train`` and ``eval triage``.

Training code, training data and the team's labels live in ``triage_dev`` (a top-level
package of the repository, not part of the wheel): an installed agent scores with the
shipped model and needs none of it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from agent.errors import UserError


def dev_module(name: str) -> ModuleType:
    """``triage_dev.<name>``, or a UserError saying how to get it."""
    try:
        return importlib.import_module(f"triage_dev.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("triage_dev", f"triage_dev.{name}", "sklearn", "scipy"):
            raise
        raise UserError(
            "this needs the development checkout (triage_dev and scikit-learn): run it "
            "from the repository after `pip install -e '.[dev]'` (make setup does)"
        ) from exc
