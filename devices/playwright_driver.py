"""PlaywrightDriver: a workspace's browser profile, driven through Chromium.

By default (``isolation: process``) one persistent context per profile folder
(``launch_persistent_context``): its own Chromium. With ``isolation: context``, a browser
context in the process's shared Chromium (``devices.shared_browser``), its cookies, local
storage and IndexedDB kept in the profile folder. Either way with the workspace's locale, time
zone, viewport, user agent and proxy. Chromium is
Debian's (``/usr/lib/chromium/chromium``, or ``INBOX_AGENT_CHROMIUM``);
nothing is downloaded. Playwright errors are translated into
``devices.errors`` here, with the URL, selector and a screenshot as evidence.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import charset_normalizer
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator as PwLocator
from playwright.sync_api import Page, Playwright, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from devices.driver import ExtractedItem, Extraction, FieldQuery, Match
from devices.errors import (
    DriverCrashed,
    DriverError,
    DriverStalled,
    DriverTimeout,
    ElementNotFound,
    Evidence,
    SelectorInvalid,
)
from devices.selectors import Locator, Selector
from devices.shared_browser import SharedChromium, read_state, shared_chromium, write_state
from devices.watchdog import DEFAULT_STALL_S, Watchdog, kill_browser, kill_marked

T = TypeVar("T")

HEADLESS_SHELL_CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell",)
CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
)
# Without these, Chromium keeps reaching for Google's hosts, which this network refuses.
QUIET_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",
]
CRASH_WORDS = ("Target closed", "has been closed", "Browser closed", "crashed", "Connection closed")


SELECTOR_ERROR_WORDS = ("Unexpected token", "not a valid", "Invalid selector", "SyntaxError")


def _first_line(exc: Exception) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _is_selector_error(exc: Exception) -> bool:
    text = str(exc)
    return any(word in text for word in SELECTOR_ERROR_WORDS)


def _script_error(text: str) -> str:
    """The page script's own message (it names selector, alternative and field)."""
    at = text.find("selector '")
    return text[at:].splitlines()[0] if at >= 0 else _first_line(Exception(text))


def launch_args() -> list[str]:
    """The switches every Chromium the agent starts gets (root needs --no-sandbox)."""
    return [*QUIET_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]


def context_options(s: BrowserSettings) -> dict[str, Any]:
    """The browser context a workspace gets, in either isolation mode (sweeps and live view)."""
    return {
        "locale": s.locale,
        "timezone_id": s.timezone,
        "viewport": {"width": s.viewport[0], "height": s.viewport[1]},
        "user_agent": s.user_agent,
        "proxy": s.proxy,
    }


def chromium_path(headless: bool = True) -> str:
    """The Chromium to run: ``INBOX_AGENT_CHROMIUM`` if set; for a headless browser,
    Debian's ``chromium-headless-shell`` when it is installed (the same Chromium build
    without the desktop browser around it: ``make bench`` measured about a third less
    memory per profile and faster starts, loads and screenshots); else Debian's chromium."""
    explicit = os.environ.get("INBOX_AGENT_CHROMIUM")
    if explicit:
        return explicit
    if headless:
        for candidate in HEADLESS_SHELL_CANDIDATES:
            if Path(candidate).exists():
                return candidate
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise DriverError(
        "Chromium not found: install Debian's chromium package or set INBOX_AGENT_CHROMIUM"
    )


@dataclass(frozen=True)
class BrowserSettings:
    profile_dir: Path
    locale: str = "en-US"
    timezone: str = "UTC"
    viewport: tuple[int, int] = (1280, 900)
    user_agent: str | None = None
    proxy: dict[str, str] | None = None
    headless: bool = True
    detect_charset: bool = True  # pages that declare no charset are decoded as detected
    stall_s: float = DEFAULT_STALL_S  # one call busy longer than this stops the browser
    isolation: str = "process"  # process: its own Chromium; context: a context in a shared one


_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)


def _declare_charset(route: Route) -> None:
    """Serve an HTML document that declares no charset with the one its bytes are in.

    Without a declared charset Chromium decodes by the locale's legacy default
    (windows-1252 for en-US), so a UTF-8 page's "They’re" becomes "Theyâ€™re" and
    the garbled text reaches triage. Only GET documents are looked at; everything
    else goes on untouched.
    """
    request = route.request
    if request.resource_type != "document" or request.method != "GET":
        route.fallback()
        return
    try:
        response = route.fetch(max_redirects=0)
        headers = dict(response.headers)
        ctype = headers.get("content-type", "")
        body = response.body()
    except PlaywrightError:
        route.fallback()  # let the browser meet (and report) the failure itself
        return
    if "html" in ctype and "charset" not in ctype.lower() and not _META_CHARSET.search(body[:4096]):
        best = charset_normalizer.from_bytes(body[:200_000]).best()
        # Python's codec name ("utf_8") is not a label browsers know; its canonical name is.
        encoding = codecs.lookup(best.encoding).name if best is not None else "utf-8"
        headers["content-type"] = f"{ctype or 'text/html'}; charset={encoding}"
    route.fulfill(response=response, headers=headers, body=body)


_EXTRACT_JS = """
(roots, spec) => {
  const IMPLICIT = {button: 'button,[role=button]', link: 'a[href],[role=link]',
    article: 'article,[role=article]', textbox: 'textarea,input,[role=textbox]',
    listitem: 'li,[role=listitem]', status: '[role=status],output', form: 'form,[role=form]',
    heading: 'h1,h2,h3,h4,h5,h6,[role=heading]'};
  const nameOf = (n) => (n.getAttribute('aria-label') || n.textContent || '').trim();
  const roleOk = (n, alt) => {
    const nm = nameOf(n);
    return !alt.name || (alt.exact ? nm === alt.name : nm.includes(alt.name));
  };
  const textOk = (n, alt) => {
    const t = n.textContent || '';
    const hit = alt.exact ? t.trim() === alt.value : t.includes(alt.value);
    const kids = Array.from(n.children);
    return hit && !kids.some((c) => (c.textContent || '').includes(alt.value));
  };
  // Elements matching one alternative inside root; with self, root itself may match too
  // (a group whose own element is an item). Errors name the selector and alternative.
  const findAll = (root, alt, self, strict) => {
    try {
      if (alt.kind === 'css') {
        const inner = Array.from(root.querySelectorAll(alt.value));
        return self && root.matches && root.matches(alt.value) ? [root, ...inner] : inner;
      }
      if (alt.kind === 'xpath') {
        // Evaluated with root as the context node (write self::… to match root itself);
        // only nodes inside root count. A relative path that reaches only outside root
        // (../x, ancestor::x) is an error, not an empty field: closest/preceding do that.
        const snap = document.evaluate(alt.value, root, null,
          XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
        const out = [];
        for (let i = 0; i < snap.snapshotLength; i++) {
          const n = snap.snapshotItem(i);
          if (root === document || root.contains(n)) out.push(n);
        }
        if (strict && snap.snapshotLength && !out.length && !alt.value.startsWith('/')) {
          throw new Error('it matches only outside the item: read it with closest or preceding');
        }
        return self ? out : out.filter((n) => n !== root);
      }
      if (alt.kind === 'role') {
        const sel = IMPLICIT[alt.value] || `[role="${alt.value}"]`;
        const all = Array.from(root.querySelectorAll(sel));
        if (self && root.matches && root.matches(sel)) all.unshift(root);
        return all.filter((n) => roleOk(n, alt));
      }
      if (alt.kind === 'text') {
        const all = Array.from(root.querySelectorAll('*'));
        if (self && root.nodeType === 1) all.unshift(root);
        return all.filter((n) => textOk(n, alt));
      }
    } catch (e) {
      throw new Error(`selector '${alt.sel}' alternative ${alt.index + 1} `
        + `(${alt.kind}=${JSON.stringify(alt.value)}) in ${alt.where}: ${e.message}`);
    }
    return [];
  };
  // Text as a person reads it: text nodes, image emoji by their alt (an alt with no
  // letters or digits), a space between blocks; scripts and styles never.
  const BLOCKS = new Set(['DIV', 'P', 'LI', 'TR', 'TD', 'TH', 'H1', 'H2', 'H3', 'H4', 'H5',
    'H6', 'ARTICLE', 'SECTION', 'HEADER', 'FOOTER', 'BLOCKQUOTE', 'UL', 'OL', 'TABLE']);
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
  const textOf = (node) => {
    const parts = [];
    const walk = (n) => {
      if (n.nodeType === 3) { parts.push(n.nodeValue); return; }
      if (n.nodeType !== 1 || SKIP.has(n.tagName)) return;
      if (n.tagName === 'IMG') {
        const alt = n.getAttribute('alt') || '';
        if (alt && !/[\\p{L}\\p{N}]/u.test(alt)) parts.push(alt);
        return;
      }
      if (n.tagName === 'BR') { parts.push('\\n'); return; }
      const block = BLOCKS.has(n.tagName) && parts.length;
      if (block) parts.push(' ');
      for (const c of n.childNodes) walk(c);
      if (block) parts.push(' ');
    };
    walk(node);
    return parts.join('');
  };
  const cache = new Map();
  const everywhere = (alt) => {
    const k = alt.kind + '|' + alt.value + '|' + (alt.name || '');
    if (!cache.has(k)) cache.set(k, findAll(document, alt, false));
    return cache.get(k);
  };
  const related = (el, rel) => {
    for (const alt of rel.alts) {
      if (rel.kind === 'closest') {
        const set = new Set(everywhere(alt));
        for (let n = el.parentElement; n; n = n.parentElement) if (set.has(n)) return n;
      } else {
        let best = null;
        for (const n of everywhere(alt)) {
          const pos = el.compareDocumentPosition(n);
          if (pos & Node.DOCUMENT_POSITION_CONTAINS) continue;
          if (pos & Node.DOCUMENT_POSITION_PRECEDING) best = n;
          else if (pos & Node.DOCUMENT_POSITION_FOLLOWING) break;
        }
        if (best) return best;
      }
    }
    return null;
  };
  const read = (el) => {
    const r = el.getBoundingClientRect();
    const out = {fields: {}, used: {},
                 box: [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]};
    for (const f of spec.fields) {
      let base = el;
      if (f.rel) {
        base = related(el, f.rel);
        if (f.rel.key) out.used[f.rel.key] = base ? 0 : -1;
      }
      let target = base, used = 0;
      if (base && f.alts) {
        target = null;
        for (let i = 0; i < f.alts.length; i++) {
          const t = findAll(base, f.alts[i], !!f.self, !f.self)[0];
          if (t) { target = t; used = i; break; }
        }
      }
      let value = null;
      if (target) value = f.attr ? target.getAttribute(f.attr) : textOf(target);
      out.fields[f.name] = value;
      if (f.key) out.used[f.key] = target ? used : -1;
    }
    return out;
  };
  roots = roots.slice(spec.start || 0);
  if (!spec.items) return {groups: roots.map((el) => [read(el)]), itemAlt: 0, empty: []};
  let itemAlt = -1;
  const empty = [];
  const groups = roots.map((root) => {
    for (let i = 0; i < spec.items.length; i++) {
      const found = findAll(root, spec.items[i], true);
      if (found.length) {
        itemAlt = Math.max(itemAlt, i);
        return found.map((el) => Object.assign(read(el), {root: el === root}));
      }
    }
    const r = root.getBoundingClientRect();
    empty.push([r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]);
    return [];
  });
  return {groups, itemAlt, empty};
}
"""


_SCROLL_TO_JS = "(y) => { window.scrollTo(0, y); return window.scrollY; }"


def _alt_specs(selector: Selector, where: str) -> list[dict[str, Any]]:
    """The alternatives of a selector for the page script (named, so errors can say which)."""
    return [
        {
            "kind": loc.kind,
            "value": loc.value,
            "name": loc.name,
            "exact": loc.exact,
            "sel": selector.name,
            "index": index,
            "where": where,
        }
        for index, loc in enumerate(selector.alternatives)
    ]


def _field_spec(f: FieldQuery) -> dict[str, Any]:
    where = f"field {f.name!r}"
    rel = None
    if f.relation is not None and f.relation_selector is not None:
        rel = {
            "kind": f.relation,
            "key": f.relation_selector.name,
            "alts": _alt_specs(f.relation_selector, f"{where} ({f.relation})"),
        }
    return {
        "name": f.name,
        "key": f.selector.name if f.selector else None,
        "attr": f.attr,
        "alts": _alt_specs(f.selector, where) if f.selector else None,
        "rel": rel,
        "self": f.include_self,
    }


class PlaywrightDriver:
    """Driver over one persistent Chromium profile. Use as a context manager."""

    def __init__(self, settings: BrowserSettings, *, evidence_dir: Path | None = None):
        self.settings = settings
        self.evidence_dir = evidence_dir
        self._pw: Playwright | None = None
        self._page: Page | None = None
        self._context: Any = None
        self._watchdog: Watchdog | None = None
        self._cdp: Any = None
        self._stalled: str | None = None
        self._shared: SharedChromium | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> PlaywrightDriver:
        s = self.settings
        s.profile_dir.mkdir(parents=True, exist_ok=True)
        args = launch_args()
        options = context_options(s)
        try:
            if s.isolation == "context":
                saved = read_state(s.profile_dir)
                self._shared = shared_chromium(args, chromium_path(s.headless), s.headless)
                self._context = self._shared.browser().new_context(storage_state=saved, **options)
            else:
                self._pw = sync_playwright().start()
                self._context = self._pw.chromium.launch_persistent_context(
                    str(s.profile_dir),
                    executable_path=chromium_path(s.headless),
                    headless=s.headless,
                    args=args,
                    **options,
                )
        except PlaywrightError as exc:
            self.close()
            message = str(exc).splitlines()[0]
            if "ProcessSingleton" in str(exc) or "SingletonLock" in str(exc):
                raise DriverError(f"profile {s.profile_dir} is open in another browser") from exc
            raise DriverCrashed(f"Chromium did not start: {message}") from exc
        self._watchdog = Watchdog(self._stop_stalled_browser, stall_s=s.stall_s)
        if s.detect_charset:
            self._context.route("**/*", _declare_charset)
        pages = self._context.pages
        self._page = pages[0] if pages else self._context.new_page()
        return self

    def __enter__(self) -> PlaywrightDriver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stop_stalled_browser(self, reason: str) -> None:
        """Called from the watchdog's thread: kill the browser so the blocked call returns
        (the shared one, in context isolation: it starts again for the next workspace)."""
        self._stalled = reason
        if self._shared is not None:
            kill_marked(self._shared.marker)
        else:
            kill_browser(self.settings.profile_dir)

    def viewport(self) -> tuple[float, float]:
        return float(self.settings.viewport[0]), float(self.settings.viewport[1])

    def app_in_front(self) -> str | None:
        return None

    def app_version(self, package: str) -> str | None:
        return None

    def dialog_in_front(self) -> bool:
        return False

    def set_deadline(self, at: float | None) -> None:
        if self._watchdog is not None:
            self._watchdog.deadline = at

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        try:
            if self._context is not None and self._stalled is None:
                if self._shared is not None:
                    write_state(
                        self.settings.profile_dir,
                        self._context.storage_state(indexed_db=True),
                    )
                self._context.close()
        except PlaywrightError:
            pass
        finally:
            self._context = None
            self._shared = None  # the shared browser stays up for the next workspace
            if self._pw is not None:
                self._pw.stop()
                self._pw = None

    @property
    def page(self) -> Page:
        if self._page is None:
            raise DriverCrashed("the browser is not running")
        return self._page

    # -- error translation -------------------------------------------------
    def _evidence(self, selector: str | None = None) -> Evidence:
        url = None
        shot = None
        try:
            url = self.page.url
            if self.evidence_dir is not None:
                self.evidence_dir.mkdir(parents=True, exist_ok=True)
                path = self.evidence_dir / f"error-{os.getpid()}-{id(self)}.png"
                self.page.screenshot(path=str(path), timeout=5000)
                shot = str(path)
        except (PlaywrightError, DriverError):
            pass
        return Evidence(url=url, selector=selector, screenshot=shot)

    def _busy(self, what: str) -> Any:
        return self._watchdog.busy(what) if self._watchdog else contextlib.nullcontext()

    def _call(self, what: str, fn: Callable[[], T], selector: str | None = None) -> T:
        if self._stalled is not None:
            raise DriverStalled(f"the browser was stopped: {self._stalled}")
        try:
            with self._busy(what):
                return fn()
        except SelectorInvalid:
            raise
        except (PlaywrightTimeout, PlaywrightError) as exc:
            if self._stalled is not None:
                raise DriverStalled(
                    f"the browser was stopped: {self._stalled}", Evidence(selector=selector)
                ) from exc
            self._translate(what, exc, selector)

    def _translate(self, what: str, exc: PlaywrightError, selector: str | None) -> NoReturn:
        """A Playwright error as the driver error a caller can act on."""
        if isinstance(exc, PlaywrightTimeout):
            raise DriverTimeout(f"{what} timed out", self._evidence(selector)) from exc
        text = str(exc)
        if any(word in text for word in CRASH_WORDS):
            raise DriverCrashed(f"{what}: browser went away", Evidence(selector=selector)) from exc
        if "selector '" in text and "alternative" in text:  # from the page script
            raise SelectorInvalid(
                f"{what}: {_script_error(text)}", Evidence(selector=selector)
            ) from exc
        raise DriverError(f"{what}: {text.splitlines()[0]}", self._evidence(selector)) from exc

    # -- selectors ---------------------------------------------------------
    def _locator(self, loc: Locator) -> PwLocator:
        page = self.page
        if loc.kind == "css":
            return page.locator(loc.value)
        if loc.kind == "xpath":
            return page.locator(f"xpath={loc.value}")
        if loc.kind == "text":
            return page.get_by_text(loc.value, exact=loc.exact)
        if loc.kind == "role":
            return page.get_by_role(loc.value, name=loc.name, exact=loc.exact)  # type: ignore[arg-type]
        raise DriverError(f"locator kind {loc.kind} does not work in a browser")

    def _first_present(self, selector: Selector) -> tuple[Match, PwLocator] | None:
        for index, alt in enumerate(selector.alternatives):
            loc = self._locator(alt)
            try:
                count = loc.count()
            except PlaywrightError as exc:
                if not _is_selector_error(exc):
                    raise
                raise SelectorInvalid(
                    f"selector {selector.name!r} alternative {index + 1} ({alt.describe()}) "
                    f"is not valid: {_first_line(exc)}",
                    Evidence(selector=selector.name),
                ) from exc
            if count:
                return Match(selector.name, index, count, alt.describe()), loc
        return None

    def _resolve(self, selector: Selector, timeout_s: float) -> tuple[Match, PwLocator]:
        def wait() -> tuple[Match, PwLocator]:
            present = self._first_present(selector)  # also: an invalid locator fails here
            if present is not None:
                return present
            combined = self._locator(selector.alternatives[0])
            for alt in selector.alternatives[1:]:
                combined = combined.or_(self._locator(alt))
            combined.first.wait_for(state="attached", timeout=timeout_s * 1000)
            found = self._first_present(selector)
            if found is None:  # vanished between the wait and the count
                raise PlaywrightTimeout("element vanished")
            return found

        try:
            return self._call(f"find {selector.name}", wait, selector.name)
        except DriverTimeout as exc:
            raise ElementNotFound(
                f"no alternative of selector {selector.name!r} matched within {timeout_s:g}s",
                exc.evidence,
            ) from exc

    # -- verbs ---------------------------------------------------------------
    def open(self, url: str, *, timeout_s: float, wait_until: str = "load") -> int | None:
        what = f"open {url} (waited {timeout_s:g}s for the page's {wait_until} event)"
        response = self._call(
            what,
            lambda: self.page.goto(url, timeout=timeout_s * 1000, wait_until=wait_until),  # type: ignore[arg-type]
        )
        return response.status if response is not None else None

    def current_url(self) -> str:
        return self.page.url

    def find(self, selector: Selector, *, timeout_s: float) -> Match:
        return self._resolve(selector, timeout_s)[0]

    def is_visible(self, selector: Selector) -> Match | None:
        found = self._call(f"look for {selector.name}", lambda: self._first_present(selector))
        if found is None:
            return None
        match, loc = found
        return match if self._call("visibility", lambda: loc.first.is_visible()) else None

    def count(self, selector: Selector) -> Match | None:
        found = self._call(f"count {selector.name}", lambda: self._first_present(selector))
        return found[0] if found else None

    def tap(self, selector: Selector, *, nth: int = 0, timeout_s: float) -> Match:
        match, loc = self._resolve(selector, timeout_s)
        self._call(
            f"tap {selector.name}",
            lambda: loc.nth(nth).click(timeout=timeout_s * 1000),
            selector.name,
        )
        return match

    def type_text(self, selector: Selector, text: str, *, clear: bool, timeout_s: float) -> Match:
        match, loc = self._resolve(selector, timeout_s)
        target = loc.first
        if clear:
            self._call(
                f"type into {selector.name}",
                lambda: target.fill(text, timeout=timeout_s * 1000),
                selector.name,
            )
        else:
            self._call(
                f"type into {selector.name}",
                lambda: target.press_sequentially(text, timeout=timeout_s * 1000),
                selector.name,
            )
        return match

    def read_text(self, selector: Selector, *, timeout_s: float) -> tuple[str, Match]:
        match, loc = self._resolve(selector, timeout_s)
        text = self._call(
            f"read {selector.name}", lambda: loc.first.text_content() or "", selector.name
        )
        return text, match

    def extract(
        self,
        selector: Selector,
        fields: list[FieldQuery],
        *,
        group: Selector | None = None,
        start: int = 0,
    ) -> Extraction:
        """Read every item's fields in one round trip; with ``group``, items inside each group.

        ``start`` skips the first roots (groups, or items without groups) already read.
        """
        roots_selector = group or selector
        found = self._call(
            f"find {roots_selector.name}", lambda: self._first_present(roots_selector)
        )
        if found is None:
            return Extraction(groups=[], match=Match(selector.name, -1, 0, ""))
        match, loc = found
        spec = {
            "fields": [_field_spec(f) for f in fields],
            "items": _alt_specs(selector, f"group {group.name!r}") if group else None,
            "start": start,
        }
        raw = self._call(
            f"read {selector.name}", lambda: loc.evaluate_all(_EXTRACT_JS, spec), selector.name
        )
        groups = [
            [
                ExtractedItem(
                    fields=r["fields"], box=tuple(r["box"]), is_group=r.get("root", False)
                )
                for r in g
            ]
            for g in raw["groups"]
        ]
        used: dict[str, int] = {}
        via_fallback: dict[str, int] = {}
        for g in raw["groups"]:
            for r in g:
                for name, index in r["used"].items():
                    used[name] = max(used.get(name, -1), index)
                    if index > 0:
                        via_fallback[name] = via_fallback.get(name, 0) + 1
        if group is not None:
            used[f"{selector.name}"] = raw["itemAlt"]
            used[f"{group.name}"] = match.index
        else:
            used[selector.name] = match.index
        roots_via_fallback = len(raw["groups"]) if match.index > 0 else 0
        if roots_via_fallback:
            via_fallback[match.selector] = roots_via_fallback
        return Extraction(
            groups=groups,
            match=match,
            field_matches=used,
            fallback_counts=via_fallback,
            empty_groups=[tuple(b) for b in raw.get("empty", [])],
        )

    def wait_for_count(self, selector: Selector, more_than: int, *, timeout_s: float) -> bool:
        """Wait until the selector matches more than ``more_than`` elements (lazy loading)."""
        return self._call(
            f"wait for more {selector.name}",
            lambda: self._wait_for_count(selector, more_than, timeout_s),
            selector.name,
        )

    def _wait_for_count(self, selector: Selector, more_than: int, timeout_s: float) -> bool:
        found = self._first_present(selector)
        if found is None:
            return False
        _, loc = found
        script = "([sel, n]) => document.querySelectorAll(sel).length > n"
        alt = selector.alternatives[found[0].index]
        if alt.kind != "css":
            return loc.count() > more_than
        try:
            self.page.wait_for_function(
                script, arg=[alt.value, more_than], timeout=timeout_s * 1000
            )
            return True
        except PlaywrightTimeout:
            return False

    def scroll(self, *, up: bool = False) -> bool:
        js = (
            "(up) => { const before = window.scrollY;"
            " window.scrollBy(0, window.innerHeight * (up ? -0.9 : 0.9));"
            " return up ? window.scrollY < before : window.scrollY > before; }"
        )
        return bool(self._call("scroll", lambda: self.page.evaluate(js, up)))

    def back(self, *, timeout_s: float) -> None:
        self._call("back", lambda: self.page.go_back(timeout=timeout_s * 1000))

    def reload(self, *, timeout_s: float) -> None:
        self._call("reload", lambda: self.page.reload(timeout=timeout_s * 1000))

    def screenshot(
        self, *, full_page: bool = False, clip: tuple[float, float, float, float] | None = None
    ) -> bytes:
        if clip is not None:  # an area of the page, wherever it is (page coordinates)
            return self._call("screenshot of a page area", lambda: self._capture_area(clip))
        return bytes(
            self._call(
                "screenshot", lambda: self.page.screenshot(full_page=full_page, timeout=30000)
            )
        )

    def _capture_area(self, clip: tuple[float, float, float, float]) -> bytes:
        """Capture an area beyond the viewport through DevTools. Playwright's full-page clip
        first resizes the page to its full height, which stalls the renderer on a page a
        megabyte message makes 125,000 px tall; this renders only the area (2 s there)."""
        if self._cdp is None:
            self._cdp = self._context.new_cdp_session(self.page)
        x, y, w, h = clip
        area = {"x": x, "y": y, "width": max(1.0, w), "height": max(1.0, h), "scale": 1}
        shot = self._cdp.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": area, "captureBeyondViewport": True},
        )
        return base64.b64decode(shot["data"])

    def screen_at(self, y: float) -> tuple[bytes, float]:
        """Scroll page position ``y`` to the top (as far as the page allows) and capture
        the screen; returns the PNG and the page position of its top edge."""
        top = float(self._call("scroll", lambda: self.page.evaluate(_SCROLL_TO_JS, y)))
        return self._call("screenshot", self._capture_screen), top

    def _capture_screen(self) -> bytes:
        """The viewport through DevTools, PNG encoded for speed (lossless, larger): a sweep
        captures a screen per window of new items, and this is about half the time of
        Playwright's screenshot (which also waits for fonts and hides the caret)."""
        if self._cdp is None:
            self._cdp = self._context.new_cdp_session(self.page)
        shot = self._cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
        return base64.b64decode(shot["data"])

    def screen_showing(self, box: tuple[float, float, float, float]) -> tuple[bytes, float] | None:
        return None

    def screen_tree(self) -> str:
        return str(self._call("page source", lambda: self.page.content()))

    # -- isolation helpers used by tests and `selectors check` --------------
    def cookies(self) -> list[dict[str, Any]]:
        return list(self._context.cookies()) if self._context else []
