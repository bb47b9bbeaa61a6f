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


class WaitFor(StepOptions):
    wait_for: SelectorName


class AssertVisible(StepOptions):
    assert_visible: SelectorName
    stop_reason: StopReason = "selector_missing"


class AssertAccount(StepOptions):
    assert_account: SelectorName


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
    """Where one field of an item is read: a selector inside the item, text or an attribute."""

    selector: SelectorName | None = Field(None, description="inside the item; default: the item")
    attr: str | None = Field(None, pattern=r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


class CollectFields(ConfigModel):
    text: FieldSpec
    author: FieldSpec
    id: FieldSpec | None = None
    posted_at: FieldSpec | None = None
    parent_id: FieldSpec | None = None


class CollectSpec(ConfigModel):
    list: SelectorName = Field(description="selector matching every item on the screen")
    group: SelectorName | None = Field(
        None, description="a comment with its replies; groups are newest activity first"
    )
    order: Literal["newest_first", "oldest_first"] = "newest_first"
    kind: Literal["comment", "dm"]
    thread: str = Field("{page_path}", description="thread id template")
    fields: CollectFields
    load_more: SelectorName | None = None
    end_marker: SelectorName | None = Field(
        None, description="shown when the list has no more items (no wait at the bottom)"
    )
    stop_at_seen: bool = True
    max_items: int = Field(5000, ge=1, le=1_000_000)
    max_scrolls: int = Field(200, ge=0, le=100_000)


class Collect(StepOptions):
    collect: CollectSpec


class ForEachSpec(ConfigModel):
    """Visit each entry of a list: a thread, a post.

    With ``link`` the entry's URL is opened directly; otherwise the entry is
    tapped and the inner steps must come back (``back``). With ``latest`` (the
    id of the entry's newest message) an entry whose newest message is already
    stored is skipped, so a sweep's cost follows what is new.
    """

    list: SelectorName
    link: FieldSpec | None = None
    latest: FieldSpec | None = None
    max: int = Field(50, ge=1, le=10_000)
    steps: builtins.list[Step] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)


class ForEach(StepOptions):
    for_each: ForEachSpec


class IfVisibleSpec(ConfigModel):
    selector: SelectorName
    then: list[Step] = Field(default_factory=list)
    otherwise: list[Step] = Field(default_factory=list, alias="else")

    model_config = ConfigModel.model_config | {"populate_by_name": True}

    @field_validator("then", "otherwise", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)


class IfVisible(StepOptions):
    if_visible: IfVisibleSpec


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
    steps: list[Step] = Field(min_length=1)
    max_duration_s: float = Field(900, gt=0, le=6 * 3600)

    @field_validator("steps", mode="before")
    @classmethod
    def _bare_words(cls, value: Any) -> Any:
        return _expand_bare_steps(value)

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
            elif isinstance(step, IfVisible):
                out.add(step.if_visible.selector)
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
        for f in (
            spec.fields.text,
            spec.fields.author,
            spec.fields.id,
            spec.fields.posted_at,
            spec.fields.parent_id,
        ):
            if f is not None and f.selector:
                names.append(f.selector)
        return names
    if isinstance(step, ForEach):
        spec_fe = step.for_each
        extra = [f.selector for f in (spec_fe.link, spec_fe.latest) if f is not None and f.selector]
        return [spec_fe.list, *extra]
    if isinstance(step, IfVisible):
        return [step.if_visible.selector]
    if isinstance(step, SendReply):
        r = step.send_reply
        optional = (r.target, r.open_composer, r.own_text)
        return [r.composer, r.send, r.own_replies, *[n for n in optional if n]]
    return []


_rebuild: tuple[type[ConfigModel], ...] = (
    StepOptions,
    *STEP_TYPES.values(),
    ForEachSpec,
    IfVisibleSpec,
)
for _model in _rebuild:
    _model.model_rebuild()
