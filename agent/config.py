"""Load every configuration file (built-in and the home's) into one checked Catalog.

Kinds and where they come from:

- ``workspaces/``  Workspace, home only
- ``devices/``     DeviceEntry, home only
- ``flows/``       Flow, built-in (``flows/builtin``) then the home's (same id overrides)
- ``selectors/``   SelectorPack, built-in (``selectors/``) then the home's

Each file is parsed with positions; per-file problems and cross-file problems
(a workspace naming a flow, selector pack, device or selector that does not
exist; a reply flow that cannot answer what the inbox flow collects) are all
collected, each at the line that names the missing thing. A workspace file whose
model fails is still checked for the references its raw data names, and every
CSS and XPath locator of every pack (built-in ones too) is compiled, so one run
reports everything. A flow no workspace uses is still checked: it must fit at
least one selector pack (built-in or the home's), else it is reported at its first
use of a selector no pack has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from agent.scheduler.config import SchedulerConfig, load_scheduler_config
from devices.locator_syntax import locator_error
from devices.models import DeviceEntry
from devices.selectors import SelectorPack
from flows.models import Collect, Flow, walk
from workspaces.errors import ConfigError, ConfigProblem
from workspaces.models import ID_PATTERN, AndroidDevice, Workspace
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
    builtin_packs: dict[str, Loaded[SelectorPack]] = field(default_factory=dict)
    broken_workspaces: list[Document] = field(default_factory=list)  # their model failed
    broken_ids: set[tuple[str, str]] = field(default_factory=set)  # (kind, id) of such files
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)  # scheduler.yaml

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

    def platform_of(self, workspace_id: str) -> str | None:
        """The workspace's platform, or None for one the configuration does not have."""
        loaded = self.workspaces.get(workspace_id)
        return None if loaded is None else loaded.model.platform

    def why_no_reply(self, workspace_id: str, kind: str) -> str | None:
        """Why a reply to a ``kind`` item of the workspace cannot be sent, or None if it can."""
        loaded = self.workspaces.get(workspace_id)
        if loaded is None:
            return f"workspace {workspace_id!r} is not in the configuration"
        ws = loaded.model
        flow_id = ws.flows.reply
        if flow_id is None:
            return f"workspace {ws.id} has no reply flow, so nothing can be sent"
        flow = self.flows.get(flow_id)
        if flow is None or flow.model.kind != "reply":
            return f"workspace {ws.id} names reply flow {flow_id!r}, which is not a reply flow"
        if kind not in flow.model.handles:
            return (
                f"reply flow {flow_id!r} of workspace {ws.id} cannot answer {kind} items "
                f"(it handles: {', '.join(flow.model.handles)})"
            )
        return None

    def clients(self) -> dict[str, str]:
        """Each workspace's client (the agency's customer it belongs to), by workspace id."""
        return {ws: loaded.model.client for ws, loaded in self.workspaces.items()}

    def device_of(self, workspace_id: str) -> DeviceEntry | None:
        """The device an Android workspace runs on (None: a browser workspace, or unknown)."""
        loaded = self.workspaces.get(workspace_id)
        env = loaded.model.environment if loaded is not None else None
        if not isinstance(env, AndroidDevice) or env.device not in self.devices:
            return None
        return self.devices[env.device].model


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
    if kind == "selectors":
        catalog.problems.extend(_locator_problems(doc))
    if model is None:
        if kind == "workspaces" and not builtin:
            catalog.broken_workspaces.append(doc)
        raw_id = doc.data.get("id") if isinstance(doc.data, dict) else None
        if isinstance(raw_id, str):  # its problems are reported; references to it are not
            catalog.broken_ids.add((kind, raw_id))
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
    catalog.builtin_packs = dict(catalog.selectors)
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
    catalog.scheduler, scheduler_doc, problems = load_scheduler_config(home.root)
    catalog.problems.extend(problems)
    if scheduler_doc is not None:
        catalog.checked.append(("scheduler", scheduler_doc.path))
        catalog.problems.extend(_pool_problems(catalog, scheduler_doc))
    _cross_check(catalog, home)
    return catalog


def _pool_problems(catalog: Catalog, doc: Document) -> list[ConfigProblem]:
    """A device pool cap must name a label some device has (else it caps nothing)."""
    labels = {label for d in catalog.devices.values() for label in d.model.labels}
    return [
        _problem(doc, ("caps", "device_pools", pool), f"no device has the label {pool!r}")
        for pool in catalog.scheduler.caps.device_pools
        if pool not in labels
    ]


def _problem(doc: Document, loc: tuple[str | int, ...], message: str) -> ConfigProblem:
    line, col = doc.mark(loc)
    return ConfigProblem(str(doc.path), line, col, doc.field_name(loc), message)


def _taxonomy_intents() -> list[str]:
    from agent.triage import load_config  # the default taxonomy (configuration)

    return list(load_config().taxonomy.intents)


def _locator_problems(doc: Document) -> list[ConfigProblem]:
    """Every CSS and XPath of a pack file that does not compile, at the locator's line.

    Read from the raw data, so a pack whose model has other problems is compiled too.
    """
    selectors = doc.data.get("selectors") if isinstance(doc.data, dict) else None
    if not isinstance(selectors, dict):
        return []
    out: list[ConfigProblem] = []
    for name, alternatives in selectors.items():
        if not isinstance(alternatives, list):
            continue
        for index, alt in enumerate(alternatives):
            if not isinstance(alt, dict):
                continue
            for kind in ("css", "xpath"):
                reason = locator_error(kind, alt.get(kind))
                if reason is not None:
                    message = f"selector {name!r} alternative {index + 1}: {reason}"
                    out.append(_problem(doc, ("selectors", name, index, kind), message))
    return out


def _cross_check(catalog: Catalog, home: Home) -> None:
    found: list[ConfigProblem] = []
    for loaded in catalog.workspaces.values():
        if not loaded.builtin:
            found.extend(_workspace_references(catalog, loaded.model, loaded.doc, home))
    for doc in catalog.broken_workspaces:
        found.extend(_reference_problems(catalog, _Refs.raw(doc.data), doc, home))
    found.extend(_unused_flow_problems(catalog))
    for problem in found:
        if problem not in catalog.problems:  # a file shared by workspaces: say it once
            catalog.problems.append(problem)


ROLES = ("inbox", "reply", "login")


def _an_id(value: Any) -> str | None:
    """``value`` if it is a well-formed id (a malformed one is the model's problem)."""
    return value if isinstance(value, str) and re.fullmatch(ID_PATTERN, value) else None


def _a_path(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class _Refs:
    """What a workspace file names in other files: from its model, or from its raw data."""

    selectors: str | None
    platform: str | None
    surface: str | None
    flows: dict[str, str | None]
    device: str | None
    triage: str | None
    knowledge: str | None
    intents: list[tuple[int, str]]

    @classmethod
    def of(cls, ws: Workspace) -> _Refs:
        env = ws.environment
        return cls(
            selectors=ws.selectors,
            platform=ws.platform,
            surface=ws.surface,
            flows={role: getattr(ws.flows, role) for role in ROLES},
            device=env.device if isinstance(env, AndroidDevice) else None,
            triage=ws.triage,
            knowledge=ws.reply_policy.knowledge,
            intents=list(enumerate(ws.reply_policy.approved_intents)),
        )

    @classmethod
    def raw(cls, data: Any) -> _Refs:
        """The references of a file whose model failed: whatever is well-formed in it."""

        def mapping(value: Any) -> dict[Any, Any]:
            return value if isinstance(value, dict) else {}

        top = mapping(data)
        flows, env, policy = (mapping(top.get(k)) for k in ("flows", "environment", "reply_policy"))
        intents = policy.get("approved_intents")
        surface = top.get("surface")
        return cls(
            selectors=_an_id(top.get("selectors")),
            platform=_an_id(top.get("platform")),
            surface=surface if surface in ("web", "android") else None,
            flows={role: _an_id(flows.get(role)) for role in ROLES},
            device=_an_id(env.get("device")) if env.get("kind") == "android_device" else None,
            triage=_a_path(top.get("triage")),
            knowledge=_a_path(policy.get("knowledge")),
            intents=[
                (i, x) for i, x in enumerate(intents if isinstance(intents, list) else [])
                if isinstance(x, str)
            ],
        )  # fmt: skip


def _unused_flow_problems(catalog: Catalog) -> list[ConfigProblem]:
    """Flows being checked that no workspace uses and that no selector pack could run.

    A used flow is checked against its workspace's pack instead. Nothing is said while a
    pack file is broken (its problems are reported, and it might be the one that fits).
    """
    if any(kind == "selectors" for kind, _ in catalog.broken_ids):
        return []
    used = {f for w in catalog.workspaces.values() for f in _Refs.of(w.model).flows.values()}
    for doc in catalog.broken_workspaces:
        used.update(_Refs.raw(doc.data).flows.values())
    packs = {key: set(p.model.selectors) for key, p in catalog.selectors.items()}
    known = set().union(*packs.values())
    out: list[ConfigProblem] = []
    for flow_id, loaded in sorted(catalog.flows.items()):
        if loaded.builtin or flow_id in used:
            continue
        names = loaded.model.selector_names()
        if not names or any(names <= have for have in packs.values()):
            continue
        nowhere = sorted(names - known)
        if nowhere:
            message = f"flow {flow_id!r} uses selectors no pack has: {', '.join(nowhere)}"
        else:  # every name is in some pack, but no pack has them all
            closest = min(sorted(packs), key=lambda key: len(names - packs[key]))
            lacks = ", ".join(sorted(names - packs[closest]))
            message = (
                f"flow {flow_id!r} fits no selector pack: the closest, {closest!r}, lacks {lacks}"
            )
            nowhere = sorted(names - packs[closest])
        out.append(_problem(loaded.doc, _first_use(loaded.doc.data, set(nowhere)), message))
    return out


def _first_use(data: Any, names: set[str]) -> tuple[str | int, ...]:
    """Where the flow file first names one of ``names`` (a step's value), else ``steps``."""

    def search(node: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
        if isinstance(node, str):
            return loc if node in names else None
        if not isinstance(node, dict | list):
            return None
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            found = search(child, (*loc, key))
            if found is not None:
                return found
        return None

    steps = data.get("steps") if isinstance(data, dict) else None
    return search(steps, ("steps",)) or ("steps",)


def _workspace_references(
    catalog: Catalog, ws: Workspace, doc: Document, home: Home
) -> list[ConfigProblem]:
    out = _reference_problems(catalog, _Refs.of(ws), doc, home)
    out.extend(_triage_problems(ws, doc, home))
    return out


def _reference_problems(
    catalog: Catalog, refs: _Refs, doc: Document, home: Home
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    pack = catalog.selectors.get(refs.selectors) if refs.selectors is not None else None
    if refs.selectors is not None and pack is None:
        if ("selectors", refs.selectors) not in catalog.broken_ids:
            out.append(
                _problem(doc, ("selectors",), f"no selector pack with id {refs.selectors!r}")
            )
    elif (
        pack is not None
        and None not in (refs.platform, refs.surface)
        and (pack.model.platform, pack.model.surface) != (refs.platform, refs.surface)
    ):
        out.append(
            _problem(
                doc,
                ("selectors",),
                f"selector pack {refs.selectors!r} is for {pack.model.platform}/"
                f"{pack.model.surface}, not {refs.platform}/{refs.surface}",
            )
        )
    by_role: dict[str, Flow] = {}
    for role in ROLES:
        flow_id = refs.flows[role]
        if flow_id is None:
            continue
        flow = catalog.flows.get(flow_id)
        loc = ("flows", role)
        if flow is None:
            if ("flows", flow_id) not in catalog.broken_ids:
                out.append(_problem(doc, loc, f"no flow with id {flow_id!r}"))
            continue
        if flow.model.kind != role:
            out.append(_problem(doc, loc, f"flow {flow_id!r} is a {flow.model.kind} flow"))
        else:
            by_role[role] = flow.model
        if pack is not None:
            missing = sorted(flow.model.selector_names() - set(pack.model.selectors))
            if missing:
                out.append(
                    _problem(
                        doc,
                        loc,
                        f"flow {flow_id!r} uses selectors missing from "
                        f"pack {refs.selectors!r}: {', '.join(missing)}",
                    )
                )
    inbox, reply = by_role.get("inbox"), by_role.get("reply")
    if inbox is not None and reply is not None:
        collected = {s.collect.kind for s in walk(inbox.steps) if isinstance(s, Collect)}
        unanswered = sorted(collected - set(reply.handles))
        if unanswered:
            out.append(
                _problem(
                    doc,
                    ("flows", "reply"),
                    f"reply flow {reply.id!r} cannot answer {' and '.join(unanswered)} items "
                    f"that inbox flow {inbox.id!r} collects "
                    f"(it handles: {', '.join(reply.handles)})",
                )
            )
    if refs.device is not None and refs.device not in catalog.devices:
        out.append(_problem(doc, ("environment", "device"), f"no device with id {refs.device!r}"))
    if refs.triage is not None and not (home.root / refs.triage).is_file():
        out.append(
            _problem(doc, ("triage",), f"triage config {refs.triage!r} not found under the home")
        )
    intents = _taxonomy_intents() if refs.intents else []
    for index, intent in refs.intents:
        if intent not in intents:
            out.append(
                _problem(
                    doc,
                    ("reply_policy", "approved_intents", index),
                    f"unknown intent {intent!r} (known: {', '.join(intents)})",
                )
            )
    if refs.knowledge is not None and not (home.root / refs.knowledge).is_file():
        out.append(
            _problem(
                doc,
                ("reply_policy", "knowledge"),
                f"knowledge file {refs.knowledge!r} not found under the home",
            )
        )
    return out


def _triage_problems(ws: Workspace, doc: Document, home: Home) -> list[ConfigProblem]:
    """What the sweep would refuse in the workspace's triage and knowledge files."""
    from agent.triage.errors import TriageConfigError
    from agent.triage.workspace import workspace_config  # the one place they are put together

    named = [ws.triage, ws.reply_policy.knowledge]
    if any(name is not None and not (home.root / name).is_file() for name in named):
        return []  # a missing file is reported on its own
    try:
        workspace_config(home, ws)
    except TriageConfigError as exc:
        return exc.problems or [_problem(doc, ("triage",), str(exc))]
    return []
