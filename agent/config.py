"""Load every configuration file (built-in and the home's) into one checked Catalog.

Kinds and where they come from:

- ``workspaces/``  Workspace, home only
- ``devices/``     DeviceEntry, home only
- ``flows/``       Flow, built-in (``flows/builtin``) then the home's (same id overrides)
- ``selectors/``   SelectorPack, built-in (``selectors/``) then the home's

Each file is parsed with positions; per-file problems and cross-file problems
(a workspace naming a flow, selector pack, device or selector that does not
exist) are all collected, each at the line that names the missing thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from devices.models import DeviceEntry
from devices.selectors import SelectorPack
from flows.models import Flow
from workspaces.errors import ConfigError, ConfigProblem
from workspaces.models import AndroidDevice, Workspace
from workspaces.paths import CONFIG_KINDS, Home, builtin_flows_dir, builtin_selectors_dir
from workspaces.source import Document, YamlSourceError, load_yaml
from workspaces.validation import parse_model

M = TypeVar("M", bound=BaseModel)

MODELS: dict[str, type[BaseModel]] = {
    "workspaces": Workspace,
    "devices": DeviceEntry,
    "flows": Flow,
    "selectors": SelectorPack,
}


@dataclass(frozen=True)
class Loaded(Generic[M]):
    model: M
    doc: Document
    builtin: bool = False


@dataclass
class Catalog:
    workspaces: dict[str, Loaded[Workspace]] = field(default_factory=dict)
    devices: dict[str, Loaded[DeviceEntry]] = field(default_factory=dict)
    flows: dict[str, Loaded[Flow]] = field(default_factory=dict)
    selectors: dict[str, Loaded[SelectorPack]] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)
    checked: list[tuple[str, Path]] = field(default_factory=list)  # (kind, file) validated

    def table(self, kind: str) -> dict[str, Loaded[Any]]:
        tables: dict[str, dict[str, Loaded[Any]]] = {
            "workspaces": self.workspaces,
            "devices": self.devices,
            "flows": self.flows,
            "selectors": self.selectors,
        }
        return tables[kind]

    def raise_for_problems(self) -> Catalog:
        if self.problems:
            raise ConfigError(self.problems)
        return self

    def workspace(self, workspace_id: str) -> Workspace:
        if workspace_id not in self.workspaces:
            known = ", ".join(sorted(self.workspaces)) or "none"
            from agent.errors import UserError

            raise UserError(f"unknown workspace {workspace_id!r} (known: {known})")
        return self.workspaces[workspace_id].model


def yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def guess_kind(path: Path, data: Any) -> str | None:
    """The config kind of a file: from its folder name, else from its keys."""
    for parent in path.parents:
        if parent.name in CONFIG_KINDS:
            return parent.name
    if isinstance(data, dict):
        if "steps" in data:
            return "flows"
        if "environment" in data:
            return "workspaces"
        if "driver" in data:
            return "devices"
        if "selectors" in data:
            return "selectors"
    return None


def _load_file(catalog: Catalog, path: Path, kind: str | None, builtin: bool) -> None:
    try:
        doc = load_yaml(path)
    except YamlSourceError as exc:
        catalog.problems.append(exc.problem)
        if not builtin:
            catalog.checked.append((kind or "unknown", path))
        return
    kind = kind or guess_kind(path, doc.data)
    if kind is None:
        catalog.checked.append(("unknown", path))
        catalog.problems.append(
            ConfigProblem.at_file(
                path,
                "cannot tell what this file is: put it under "
                "workspaces/, devices/, flows/ or selectors/",
            )
        )
        return
    if not builtin:
        catalog.checked.append((kind, path))
    model, problems = parse_model(MODELS[kind], doc)
    catalog.problems.extend(problems)
    if model is None:
        return
    table = catalog.table(kind)
    model_id = getattr(model, "id")  # noqa: B009 - every config model has an id
    previous = table.get(model_id)
    if previous is not None and not previous.builtin:
        line, col = doc.mark(("id",))
        catalog.problems.append(
            ConfigProblem(
                str(path),
                line,
                col,
                "id",
                f"duplicate id {model_id!r} (also in {previous.doc.path})",
            )
        )
        return
    table[model_id] = Loaded(model, doc, builtin)


def load_catalog(home: Home, paths: Iterable[Path] | None = None) -> Catalog:
    """Load built-in data and the home's folders; with ``paths``, also check those files.

    Explicit paths replace the home's files of the same kind and id, so a file
    can be checked before it is copied into the home.
    """
    catalog = Catalog()
    for path in yaml_files(builtin_flows_dir()):
        _load_file(catalog, path, "flows", builtin=True)
    for path in yaml_files(builtin_selectors_dir()):
        _load_file(catalog, path, "selectors", builtin=True)
    explicit = [Path(p) for p in paths] if paths is not None else None
    if explicit is None:
        for kind in CONFIG_KINDS:
            for path in yaml_files(home.config_dir(kind)):
                _load_file(catalog, path, kind, builtin=False)
    else:
        checked = Catalog()  # the home's files, used only to resolve references
        for kind in CONFIG_KINDS:
            for path in yaml_files(home.config_dir(kind)):
                _load_file(checked, path, kind, builtin=False)
        for kind in CONFIG_KINDS:
            for key, loaded in checked.table(kind).items():
                catalog.table(kind).setdefault(key, Loaded(loaded.model, loaded.doc, builtin=True))
        files: list[Path] = []
        for p in explicit:
            if p.is_dir():
                files.extend(yaml_files(p))
            else:
                files.append(p)
        for path in files:
            _load_file(catalog, path, None, builtin=False)
    _cross_check(catalog, home)
    return catalog


def _problem(doc: Document, loc: tuple[str | int, ...], message: str) -> ConfigProblem:
    line, col = doc.mark(loc)
    return ConfigProblem(str(doc.path), line, col, doc.field_name(loc), message)


def _taxonomy_intents() -> list[str]:
    from agent.triage import load_config  # the default taxonomy (configuration)

    return list(load_config().taxonomy.intents)


def _cross_check(catalog: Catalog, home: Home) -> None:
    for loaded in catalog.workspaces.values():
        if loaded.builtin:
            continue
        ws, doc = loaded.model, loaded.doc
        for problem in _workspace_references(catalog, ws, doc, home):
            if problem not in catalog.problems:  # a file shared by workspaces: say it once
                catalog.problems.append(problem)


def _workspace_references(
    catalog: Catalog, ws: Workspace, doc: Document, home: Home
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    pack = catalog.selectors.get(ws.selectors)
    if pack is None:
        out.append(_problem(doc, ("selectors",), f"no selector pack with id {ws.selectors!r}"))
    elif (pack.model.platform, pack.model.surface) != (ws.platform, ws.surface):
        out.append(
            _problem(
                doc,
                ("selectors",),
                f"selector pack {ws.selectors!r} is for {pack.model.platform}/"
                f"{pack.model.surface}, not {ws.platform}/{ws.surface}",
            )
        )
    for role in ("inbox", "reply", "login"):
        flow_id = getattr(ws.flows, role)
        if flow_id is None:
            continue
        flow = catalog.flows.get(flow_id)
        loc = ("flows", role)
        if flow is None:
            out.append(_problem(doc, loc, f"no flow with id {flow_id!r}"))
            continue
        if flow.model.kind != role:
            out.append(_problem(doc, loc, f"flow {flow_id!r} is a {flow.model.kind} flow"))
        if pack is not None:
            missing = sorted(flow.model.selector_names() - set(pack.model.selectors))
            if missing:
                out.append(
                    _problem(
                        doc,
                        loc,
                        f"flow {flow_id!r} uses selectors missing from "
                        f"pack {ws.selectors!r}: {', '.join(missing)}",
                    )
                )
    env = ws.environment
    if isinstance(env, AndroidDevice) and env.device not in catalog.devices:
        out.append(_problem(doc, ("environment", "device"), f"no device with id {env.device!r}"))
    if ws.triage is not None and not (home.root / ws.triage).is_file():
        out.append(
            _problem(doc, ("triage",), f"triage config {ws.triage!r} not found under the home")
        )
    intents = _taxonomy_intents()
    for index, intent in enumerate(ws.reply_policy.approved_intents):
        if intent not in intents:
            out.append(
                _problem(
                    doc,
                    ("reply_policy", "approved_intents", index),
                    f"unknown intent {intent!r} (known: {', '.join(intents)})",
                )
            )
    knowledge = ws.reply_policy.knowledge
    if knowledge is not None and not (home.root / knowledge).is_file():
        out.append(
            _problem(
                doc,
                ("reply_policy", "knowledge"),
                f"knowledge file {knowledge!r} not found under the home",
            )
        )
    out.extend(_triage_problems(ws, doc, home))
    return out


def _triage_problems(ws: Workspace, doc: Document, home: Home) -> list[ConfigProblem]:
    """What the sweep would refuse in the workspace's triage and knowledge files."""
    from agent.decide import workspace_config  # the one place they are put together
    from agent.triage.errors import TriageConfigError

    named = [ws.triage, ws.reply_policy.knowledge]
    if any(name is not None and not (home.root / name).is_file() for name in named):
        return []  # a missing file is reported on its own
    try:
        workspace_config(home, ws)
    except TriageConfigError as exc:
        return exc.problems or [_problem(doc, ("triage",), str(exc))]
    return []
