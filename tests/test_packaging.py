"""The wheel carries the data the code finds at run time (no source checkout assumed)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_selector_packs_flows_examples_model_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("inbox_agent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ROOT.joinpath("selectors").glob("*.yaml"):
        assert f"selectors/{path.name}" in names
    for path in ROOT.joinpath("flows", "builtin").glob("*.yaml"):
        assert f"flows/builtin/{path.name}" in names
    assert "agent/examples/home/workspaces/sandbox-acme-web.yaml" in names
    assert "agent/triage/data/model.npz" in names
    assert any(n.startswith("agent/store/migrations/versions/0001") for n in names)
    # selectors/ must stay data: a package named `selectors` shadows the standard library.
    assert "selectors/__init__.py" not in names
    assert not ROOT.joinpath("selectors", "__init__.py").exists()


def test_builtin_data_is_found_beside_the_installed_packages() -> None:
    import agent
    from workspaces.paths import builtin_flows_dir, builtin_selectors_dir, install_root

    assert install_root() == Path(agent.__file__).resolve().parent.parent
    assert (builtin_selectors_dir() / "sandbox-web.yaml").is_file()
    assert (builtin_flows_dir() / "sandbox-inbox.yaml").is_file()
    import selectors as stdlib_selectors

    assert hasattr(stdlib_selectors, "DefaultSelector")  # the standard library's, not ours
