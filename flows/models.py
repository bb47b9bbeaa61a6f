"""Flows and steps: declarative inbox-check and reply scripts, loaded from YAML.

A step is a mapping named by exactly one step key, plus common options::

    steps:
      - open: "{start_url}/inbox"
      - assert_account: account_handle
      - tap: first_thread
        retries: 2
        recover: [reload]
      - collect:
          list: message_item
          kind: dm
          fields: {id: {selector: message_item, attr: data-message-id}, ...}
      - screenshot: inbox

Steps are a discriminated union on that key (never one wrapper with an optional
field per kind); unknown keys are errors at their line. ``reload`` and ``back``
may be written as bare words.
"""

from __future__ import annotations

import builtins
import re
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from workspaces.models import Identifier
from workspaces.validation import ConfigModel

StopReason = Literal[
    "login_required",
    "challenge",
    "rate_limited",
    "wrong_account",
    "selector_missing",
    "timeout",
    "crashed",
    "limit_reached",
    "platform_error",
    "update_required",
    "unexpected_dialog",
    "wrong_app",
]
STOP_REASONS: tuple[str, ...] = StopReason.__args__  # type: ignore[attr-defined]

SelectorName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")]


class StepOptions(ConfigModel):
    """Options every step accepts."""

    retries: int = Field(0, ge=0, le=10)
    timeout_s: float | None = Field(None, gt=0, le=600)
    optional: bool = Field(False, description="a failure is logged and the flow goes on")
    recover: list[Step] = Field(default_factory=list, description="steps run before each retry")

    @field_validator("recover", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)


class Open(StepOptions):
    open: str = Field(min_length=1, description="URL template, e.g. '{start_url}/inbox'")
    wait_until: Literal["load", "domcontentloaded", "commit"] = Field(
        "load",
        description="the page event open waits for: full load, DOM ready (pages whose "
        "third-party assets never finish), or the first response byte",
    )


class WaitFor(StepOptions):
    wait_for: SelectorName


class AssertVisible(StepOptions):
    assert_visible: SelectorName
    stop_reason: StopReason = "selector_missing"


class AssertAccount(StepOptions):
    """The signed-in account shown on screen must be the workspace's ``expected_account``.

    Read from the element's text, or from ``attr`` (an ``aria-label``, a profile
    link's ``href``); with ``pattern`` (a regular expression with one group) the
    handle is that group: ``"Signed in as @?(\\S+)"``, ``"^/([^/?]+)"``.
    """

    assert_account: SelectorName
    attr: str | None = Field(None, pattern=r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")
    pattern: str | None = Field(None, description="regex; its first group is the handle")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
            if compiled.groups < 1:
                raise ValueError("the pattern needs one group: the handle")
        return value


class Tap(StepOptions):
    tap: SelectorName


class TypeSpec(ConfigModel):
    into: SelectorName
    text: str
    clear: bool = True


class TypeText(StepOptions):
    type: TypeSpec


class ScrollSpec(ConfigModel):
    until_visible: SelectorName | None = None
    max_scrolls: int = Field(20, ge=1, le=10_000)


class ScrollUntil(StepOptions):
    scroll_until: ScrollSpec


class FieldSpec(ConfigModel):
    """Where one field of an item is read: a selector inside the item, text or an attribute.

    The field is read inside the item, or, with ``closest``, inside the nearest
    enclosing element that matches that selector (the post a comment belongs to,
    the conversation row), or, with ``preceding``, inside the nearest element
    before the item that matches it (the tweet a reply answers). Text is the
    element's text with image emoji read from their ``alt``.
    """

    selector: SelectorName | None = Field(None, description="inside the item; default: the item")
    attr: str | None = Field(None, pattern=r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")
    closest: SelectorName | None = Field(None, description="read inside the enclosing element")
    preceding: SelectorName | None = Field(None, description="read inside the element before")
    ocr: bool = Field(
        False,
        description="read the element's pixels with OCR (Android custom views draw text the "
        "screen tree does not hold); an element with bounds but no text is read so anyway",
    )

    @model_validator(mode="after")
    def _one_relation(self) -> FieldSpec:
        if self.closest and self.preceding:
            raise ValueError("give closest or preceding, not both")
        return self

    def selector_names(self) -> builtins.list[str]:
        return [n for n in (self.selector, self.closest, self.preceding) if n]


class CollectFields(ConfigModel):
    """The fields of one item. ``text`` and ``author`` are required: an element whose
    text or author cannot be read is counted as unreadable (drift), never dropped silently."""

    text: FieldSpec
    author: FieldSpec
    handle: FieldSpec | None = Field(None, description="the author's @handle, beside the name")
    id: FieldSpec | None = None
    posted_at: FieldSpec | None = None
    parent_id: FieldSpec | None = None
    truncated: FieldSpec | None = Field(
        None, description="present when the text is cut short (a 'Show more' control)"
    )

    def named(self) -> builtins.list[tuple[str, FieldSpec]]:
        """(field name, spec) for every field that is set, in a fixed order."""
        names = ("text", "author", "handle", "id", "posted_at", "parent_id", "truncated")
        return [(n, getattr(self, n)) for n in names if getattr(self, n) is not None]


Ordering = Literal["newest_first", "oldest_first", "appended_at_end", "unordered"]


class CollectSpec(ConfigModel):
    """Read the items of one list.

    ``order`` says where new items appear, and so where reading may stop:
    ``newest_first`` (new at the top: stop at the first fully stored group),
    ``oldest_first`` (chat order, new at the bottom, older ones loaded above:
    read from the bottom, stop at the first fully stored group), ``appended_at_end``
    (oldest first and new ones on the last page: always read to the end) and
    ``unordered`` (always read everything). Every ``full_every`` sweeps (and with
    ``sweep --full``) reading never stops early, and items an incremental read
    would have missed are reported.
    """

    list: SelectorName = Field(description="selector matching every item on the screen")
    group: SelectorName | None = Field(
        None, description="a comment with its replies; the group's own element may be an item"
    )
    order: Ordering = "newest_first"
    kind: Literal["comment", "dm"]
    thread: str | FieldSpec | None = Field(
        None,
        description="thread id: a template ('{page_path}'), or a field of each item "
        "(e.g. {closest: post, selector: post_link, attr: href}); default: the entry's "
        "thread inside a for_each with thread, else {page_path}",
    )
    fields: CollectFields
    load_more: SelectorName | None = None
    end_marker: SelectorName | None = Field(
        None, description="shown when the list has no more items (no wait at the bottom)"
    )
    stop_at_seen: bool = Field(True, description="false: never stop early, whatever the order")
    full_every: int | None = Field(None, ge=1, le=10_000, description="a full pass every N sweeps")
    whitespace: Literal["collapse", "keep"] = Field(
        "collapse",
        description="collapse: every run of whitespace in the text is one space (a page's "
        "indentation is not the message); keep: the text as the page holds it",
    )
    shown_times_stay: bool = Field(
        False,
        description="the time shown under each message never changes (a chat bubble's "
        "10:42, a date): it tells two identical messages of one author apart",
    )
    scroll: Literal["down", "up"] = Field(
        "down",
        description="where more of the list is: down, or up (a phone's chat opens at its "
        "newest message, older ones above)",
    )
    on_unreadable: Literal["drift", "stop"] = Field(
        "drift", description="an element that cannot be read: mark the sweep drift, or stop"
    )
    max_items: int = Field(5000, ge=1, le=1_000_000)
    max_scrolls: int = Field(200, ge=0, le=100_000)
    end_wait_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="at the end of the list, how long more may take to load (lazy loading); "
        "0 for a list that holds everything it has (a phone's list of stored messages)",
    )

    @property
    def stops_at_seen(self) -> bool:
        """Whether reading may stop at the first fully stored group (incremental passes)."""
        return self.stop_at_seen and self.order in ("newest_first", "oldest_first")


class Collect(StepOptions):
    collect: CollectSpec


class ForEachSpec(ConfigModel):
    """Visit each entry of a list: a thread, a post.

    With ``link`` the entry's URL is opened directly and its path is the
    thread; otherwise the entry is tapped (tap mode) and ``thread`` names the
    entry's thread from a field of the row (an id attribute, the conversation
    partner), so each conversation is its own thread. With ``latest`` (the id of
    the entry's newest message) an entry whose newest message is already stored
    is skipped, so a sweep's cost follows what is new. With ``match`` only the
    entry whose thread equals it is visited: a reply flow opens the item's own
    conversation (``match: "{thread}"``) without tapping through the others.
    """

    list: SelectorName
    link: FieldSpec | None = None
    latest: FieldSpec | None = None
    thread: FieldSpec | None = Field(
        None, description="tap mode: the entry's thread id from a field of the row"
    )
    match: str | None = Field(
        None, description="visit only the entry whose thread is this (e.g. '{thread}')"
    )
    only_with: SelectorName | None = Field(
        None,
        description="visit only entries showing this inside them (an unread badge), so a "
        "sweep opens only what changed; full passes (sweep --full, full_every) visit all",
    )
    full_every: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="with only_with: visit every entry every N sweeps (and on the first), "
        "for messages someone read elsewhere before the sweep saw them",
    )
    max: int = Field(50, ge=1, le=10_000)
    scroll: bool = Field(
        False,
        description="scroll the list for more entries after the ones on screen (a phone's "
        "list holds only the rows it shows); each entry is visited once, by thread or link",
    )
    steps: builtins.list[Step] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)

    @model_validator(mode="after")
    def _scroll_needs_identity(self) -> ForEachSpec:
        if self.scroll and self.link is None and self.thread is None:
            raise ValueError("scroll needs link or thread: how else is an entry known twice")
        return self


class ForEach(StepOptions):
    for_each: ForEachSpec


class Branches(ConfigModel):
    """The two branches of a condition: ``then`` and ``else``."""

    then: list[Step] = Field(default_factory=list)
    otherwise: list[Step] = Field(default_factory=list, alias="else")

    model_config = ConfigModel.model_config | {"populate_by_name": True}

    @field_validator("then", "otherwise", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)


class IfVisibleSpec(Branches):
    selector: SelectorName


class IfVisible(StepOptions):
    if_visible: IfVisibleSpec


class IfKindSpec(Branches):
    """Reply flows: steps for one kind of item (a DM is answered in its chat, a comment
    under its post), where the screen alone cannot tell (an app opens where it was left)."""

    kind: Literal["comment", "dm"]


class IfKind(StepOptions):
    if_kind: IfKindSpec


class Screenshot(StepOptions):
    screenshot: Identifier


class Reload(StepOptions):
    reload: Literal[True]


class Back(StepOptions):
    back: Literal[True]


class SendReplySpec(ConfigModel):
    """Post ``{reply_text}`` exactly once.

    Before typing, the customer's message (``target``) must still be on screen and
    the brand's replies (``own_replies``) must not already contain the text: that
    check is what turns a crash between "sent" and "recorded" into a no-op. After
    sending, the reply must show up among ``own_replies``. Selector values may use
    ``{item_message_id}`` and ``{account_name}``; the values are quoted safely.
    """

    target: SelectorName | None = None
    load_more: SelectorName | None = Field(
        None,
        description="tapped (or the thread scrolled) until target shows: a message with "
        "many newer ones is further down, not gone",
    )
    max_loads: int = Field(50, ge=0, le=10_000)
    scroll: Literal["down", "up"] = Field(
        "down", description="where older messages are when there is no load_more: down, or up"
    )
    open_composer: SelectorName | None = None
    composer: SelectorName
    send: SelectorName
    own_replies: SelectorName
    own_text: SelectorName | None = None


class SendReply(StepOptions):
    send_reply: SendReplySpec


STEP_TYPES: dict[str, type[StepOptions]] = {
    "open": Open,
    "wait_for": WaitFor,
    "assert_visible": AssertVisible,
    "assert_account": AssertAccount,
    "tap": Tap,
    "type": TypeText,
    "scroll_until": ScrollUntil,
    "collect": Collect,
    "for_each": ForEach,
    "if_visible": IfVisible,
    "if_kind": IfKind,
    "screenshot": Screenshot,
    "reload": Reload,
    "back": Back,
    "send_reply": SendReply,
}
BARE_STEPS = ("reload", "back")


def step_kind(value: Any) -> str | None:
    """The step key of a raw mapping or a model; None when there is not exactly one."""
    if isinstance(value, dict):
        kinds = [k for k in value if k in STEP_TYPES]
        return kinds[0] if len(kinds) == 1 else None
    for kind, cls in STEP_TYPES.items():
        if type(value) is cls:
            return kind
    return None


def _expand_bare_steps(value: Any) -> Any:
    if isinstance(value, list):
        return [{item: True} if item in BARE_STEPS else item for item in value]
    return value


Step = Annotated[
    Annotated[Open, Tag("open")]
    | Annotated[WaitFor, Tag("wait_for")]
    | Annotated[AssertVisible, Tag("assert_visible")]
    | Annotated[AssertAccount, Tag("assert_account")]
    | Annotated[Tap, Tag("tap")]
    | Annotated[TypeText, Tag("type")]
    | Annotated[ScrollUntil, Tag("scroll_until")]
    | Annotated[Collect, Tag("collect")]
    | Annotated[ForEach, Tag("for_each")]
    | Annotated[IfVisible, Tag("if_visible")]
    | Annotated[IfKind, Tag("if_kind")]
    | Annotated[Screenshot, Tag("screenshot")]
    | Annotated[Reload, Tag("reload")]
    | Annotated[Back, Tag("back")]
    | Annotated[SendReply, Tag("send_reply")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message="each step names exactly one of: " + ", ".join(STEP_TYPES),
    ),
]


class Flow(ConfigModel):
    id: Identifier
    kind: Literal["inbox", "reply", "login"] = "inbox"
    description: str = ""
    handles: list[Literal["comment", "dm"]] = Field(
        default_factory=list,
        validate_default=True,
        description="reply flows: the item kinds they answer (an approval of another is refused)",
    )
    steps: list[Step] = Field(min_length=1)
    max_duration_s: float = Field(900, gt=0, le=6 * 3600)

    @field_validator("steps", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)

    @field_validator("handles")
    @classmethod
    def _handles_with_reply(cls, value: list[str], info: Any) -> list[str]:
        # A field validator (not the model's) so the problem is reported at ``handles``
        # (or, when it is missing, at the flow's mapping, like any missing field).
        kind = info.data.get("kind")
        if kind == "reply" and not value:
            raise ValueError("a reply flow names the item kinds it answers: handles: [dm, comment]")
        if kind not in (None, "reply") and value:
            raise ValueError(f"only a reply flow has handles (this one is kind: {kind})")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _reply_flow_sends(self) -> Flow:
        if self.kind == "reply" and not any(isinstance(s, SendReply) for s in walk(self.steps)):
            raise ValueError("a reply flow needs a send_reply step")
        return self

    def optional_selector_names(self) -> set[str]:
        """Selectors that are legitimately absent at times (load more, end of list, if_visible)."""
        out: set[str] = set()
        for step in walk(self.steps):
            if isinstance(step, Collect):
                out.update(n for n in (step.collect.load_more, step.collect.end_marker) if n)
                if step.collect.fields.truncated is not None:
                    out.update(step.collect.fields.truncated.selector_names())
            elif isinstance(step, IfVisible):
                out.add(step.if_visible.selector)
            elif isinstance(step, ForEach) and step.for_each.only_with:
                out.add(step.for_each.only_with)
        return out

    def selector_names(self) -> set[str]:
        """Every selector name the flow refers to (for cross-file checks)."""
        return {name for step in walk(self.steps) for name in _selectors_of(step)}


def walk(steps: list[Any]) -> list[Any]:
    """All steps, depth first, including nested and recovery steps."""
    out: list[Any] = []
    for step in steps:
        out.append(step)
        out.extend(walk(step.recover))
        if isinstance(step, ForEach):
            out.extend(walk(step.for_each.steps))
        elif isinstance(step, IfVisible):
            out.extend(walk(step.if_visible.then) + walk(step.if_visible.otherwise))
        elif isinstance(step, IfKind):
            out.extend(walk(step.if_kind.then) + walk(step.if_kind.otherwise))
    return out


def _selectors_of(step: Any) -> list[str]:
    if isinstance(step, WaitFor):
        return [step.wait_for]
    if isinstance(step, AssertVisible):
        return [step.assert_visible]
    if isinstance(step, AssertAccount):
        return [step.assert_account]
    if isinstance(step, Tap):
        return [step.tap]
    if isinstance(step, TypeText):
        return [step.type.into]
    if isinstance(step, ScrollUntil):
        return [step.scroll_until.until_visible] if step.scroll_until.until_visible else []
    if isinstance(step, Collect):
        spec = step.collect
        names = [spec.list] + [n for n in (spec.load_more, spec.group, spec.end_marker) if n]
        for _, f in spec.fields.named():
            names.extend(f.selector_names())
        if isinstance(spec.thread, FieldSpec):
            names.extend(spec.thread.selector_names())
        return names
    if isinstance(step, ForEach):
        spec_fe = step.for_each
        fields = (spec_fe.link, spec_fe.latest, spec_fe.thread)
        names = [spec_fe.list, *[n for f in fields if f is not None for n in f.selector_names()]]
        return names + ([spec_fe.only_with] if spec_fe.only_with else [])
    if isinstance(step, IfVisible):
        return [step.if_visible.selector]
    if isinstance(step, SendReply):
        r = step.send_reply
        optional = (r.target, r.load_more, r.open_composer, r.own_text)
        return [r.composer, r.send, r.own_replies, *[n for n in optional if n]]
    return []


_rebuild: tuple[type[ConfigModel], ...] = (
    StepOptions,
    *STEP_TYPES.values(),
    ForEachSpec,
    Branches,
    IfVisibleSpec,
    IfKindSpec,
)
for _model in _rebuild:
    _model.model_rebuild()
