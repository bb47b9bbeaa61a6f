"""The send_reply step: post ``{reply_text}`` exactly once, or fail where a person sees it.

Before typing it checks that the customer's message is still in the thread and
that the brand's replies do not already contain the text (how a crash between
"sent" and "recorded" is caught); after sending it waits until the reply shows
up among the brand's replies.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from devices.driver import FieldQuery
from devices.errors import DriverError, DriverTimeout, ElementNotFound
from flows.errors import FlowStop
from flows.templates import same_text

if TYPE_CHECKING:
    from flows.runner import FlowRunner


class ReplySender:
    """One send_reply step: verify, check not already posted, type, send, confirm."""

    def __init__(self, runner: FlowRunner, spec: Any, timeout_s: float):
        self.r = runner
        self.spec = spec
        self.t = timeout_s
        self.text = runner.ctx.variables["reply_text"]
        self.finding_took = 0.0

    def _own_texts(self) -> list[str]:
        own = self.r.selector(self.spec.own_replies)
        sub = self.r.selector(self.spec.own_text) if self.spec.own_text else None
        extraction = self.r.driver.extract(own, [FieldQuery("text", sub, None)])
        return [x.fields.get("text") or "" for x in extraction.items]

    def already_posted(self) -> bool:
        return any(same_text(t, self.text) for t in self._own_texts())

    def _probe(self) -> dict[str, Any]:
        d, r = self.r.driver, self.r
        self._own_texts()  # the brand's replies resolve (or are legitimately none)
        if self.spec.open_composer:
            r._note(d.tap(r.selector(self.spec.open_composer), timeout_s=self.t))
        r._note(d.find(r.selector(self.spec.composer), timeout_s=self.t))
        r._note(d.find(r.selector(self.spec.send), timeout_s=self.t))
        return {"probe": True}

    def _find_target(self) -> None:
        """Find the customer's message, loading older messages (bounded) before calling it gone."""
        d, r = self.r.driver, self.r
        target = r.selector(self.spec.target)
        loads = 0
        started = time.monotonic()
        while True:
            try:
                r._note(d.find(target, timeout_s=self.t if loads == 0 else 1.0))
                self.finding_took = time.monotonic() - started
                return
            except ElementNotFound as exc:
                r.check_screens()
                if loads >= self.spec.max_loads or not self._load_older():
                    raise FlowStop(
                        "selector_missing",
                        "the customer's message is no longer in the thread"
                        + (f" (looked through {loads} more loads)" if loads else ""),
                        exc.evidence,
                    ) from exc
                loads += 1

    def _load_older(self) -> bool:
        """Show more of the thread: tap its load-more control, else scroll; False at the end."""
        d, r = self.r.driver, self.r
        if self.spec.load_more:
            button = r.selector(self.spec.load_more)
            if d.is_visible(button) is not None:
                r._check_deadline()
                d.tap(button, timeout_s=self.t)
                return True
        return d.scroll(up=self.spec.scroll == "up")

    def run(self) -> dict[str, Any]:
        d, r = self.r.driver, self.r
        if self.spec.target:
            self._find_target()
        if r.ctx.probe:  # `selectors check`: find everything a send needs, send nothing
            return self._probe()
        if self.already_posted():
            return {"already_posted": True}
        before = len(self._own_texts())
        if self.spec.open_composer:
            r._note(d.tap(r.selector(self.spec.open_composer), timeout_s=self.t))
        r._note(
            d.type_text(r.selector(self.spec.composer), self.text, clear=True, timeout_s=self.t)
        )
        r._note(d.tap(r.selector(self.spec.send), timeout_s=self.t))
        # As long again as finding the message took: after the send reloads the thread,
        # an old message has to be loaded again before its replies can be seen.
        deadline = time.monotonic() + self.t + self.finding_took
        target = r.selector(self.spec.target) if self.spec.target else None
        while time.monotonic() < deadline:
            # The send usually navigates; reading mid-navigation fails, so poll until the
            # reply shows up among the brand's replies or the step's time runs out.
            with contextlib.suppress(DriverError):
                r.check_screens()
                if target is not None and d.count(target) is None:
                    if not self._load_older():
                        time.sleep(0.1)
                    continue
                if len(self._own_texts()) > before and self.already_posted():
                    return {"already_posted": False, "confirmed": True}
            time.sleep(0.1)
        raise DriverTimeout("the reply did not appear in the thread after sending")
