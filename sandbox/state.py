"""The sandbox platform's in-memory state: accounts, posts, comments, DM threads, replies, faults.

One ``SandboxState`` lives in the server process. Every read and write goes through its
methods, which hold one re-entrant lock, so the pages, the admin API and the test helpers can
use it from any thread. Ids come from one counter per kind (``p1``, ``c12``, ``t3``, ``m40``),
so a fresh state seeded with the same seed gets the same ids. Times are timezone-aware UTC;
a new item never gets a time earlier than the newest item already stored, so "newest first"
is also "most recently added first".

Text is stored as a browser would show it: ``clean_text`` turns every lone surrogate (a
half of a UTF-16 pair, which UTF-8 cannot encode, so a page holding one could not be sent)
and every NUL (which an HTML parser drops or replaces) into U+FFFD, the replacement
character; a surrogate pair written as two code points becomes the one character it
encodes; a CR or CRLF becomes LF, as an HTML parser reads line breaks. Everything else (RTL
marks, combining marks, other control characters) is kept. Like the real platforms, the
sandbox refuses a message with nothing to show (only blanks, and no image).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sandbox.errors import NotFound, SandboxError

FaultMode = Literal[
    "none",
    "session_expired",
    "challenge",
    "rate_limited",
    "wrong_account",
    "changed_dom",
    "slow",
    "never_loads",
    "server_error",
]
FAULT_MODES: tuple[str, ...] = (
    "none",
    "session_expired",
    "challenge",
    "rate_limited",
    "wrong_account",
    "changed_dom",
    "slow",
    "never_loads",
    "server_error",
)
DEFAULT_ACCOUNTS: tuple[str, ...] = ("acme", "globex", "initech")
DEFAULT_PASSWORD = "sandbox"  # noqa: S105 - practice platform: documented, not a secret
DEFAULT_SLOW_MS = 2000
CHALLENGE_CODE = "4721"


@dataclass
class Account:
    name: str
    password: str = DEFAULT_PASSWORD
    display_name: str = ""
    fault: str = "none"
    slow_ms: int = DEFAULT_SLOW_MS

    @property
    def handle(self) -> str:
        return f"@{self.name}"


@dataclass
class Message:
    """A comment (on a post) or a DM (in a thread); ``parent_id`` is set on nested replies."""

    id: str
    kind: Literal["comment", "dm"]
    account: str
    container_id: str  # post id for comments, thread id for DMs
    author: str
    text: str
    time: datetime
    seq: int
    image: str | None = None
    parent_id: str | None = None
    root_id: str | None = None  # the top-level comment of a nested reply
    from_brand: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


@dataclass
class Post:
    id: str
    account: str
    caption: str
    time: datetime
    image: str | None = None
    comment_ids: list[str] = field(default_factory=list)


@dataclass
class Thread:
    id: str
    account: str
    participant: str
    message_ids: list[str] = field(default_factory=list)
    read_seq: int = 0  # messages with a higher seq from the participant are unread


@dataclass
class Reply:
    """One reply the brand sent through a composer: the record exactly-once tests rely on."""

    seq: int
    account: str
    kind: Literal["comment", "dm"]
    container_id: str
    in_reply_to: str | None
    text: str
    time: datetime
    message_id: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


_UNSHOWABLE = re.compile("[\x00\r\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` as a browser shows it: lone surrogates and NUL as U+FFFD, CR and CRLF as LF
    (see the module docstring)."""
    if not _UNSHOWABLE.search(text):
        return text
    paired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return paired.replace("\x00", "\ufffd").replace("\r\n", "\n").replace("\r", "\n")


def _clean_opt(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def _now() -> datetime:
    return datetime.now(UTC)


class SandboxState:
    """Everything the sandbox serves; thread-safe."""

    def __init__(self, accounts: tuple[str, ...] = DEFAULT_ACCOUNTS) -> None:
        self.lock = threading.RLock()
        self._account_names = accounts
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty every post, thread, reply and fault; sessions are kept."""
        with self.lock:
            self.accounts: dict[str, Account] = {
                n: Account(name=n, display_name=n.capitalize()) for n in self._account_names
            }
            self.posts: dict[str, Post] = {}
            self.threads: dict[str, Thread] = {}
            self.messages: dict[str, Message] = {}
            self.replies: list[Reply] = []
            self.sessions: dict[str, str] = getattr(self, "sessions", {})
            self._counters: dict[str, int] = {}
            self._seq = 0
            self._last_time: datetime | None = None

    def _next_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}{self._counters[prefix]}"

    def _stamp(self, when: datetime | None) -> datetime:
        if when is not None:
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        t = _now()
        if self._last_time is not None and t <= self._last_time:
            t = self._last_time + timedelta(milliseconds=1)
        return t

    def _track(self, when: datetime) -> None:
        if self._last_time is None or when > self._last_time:
            self._last_time = when

    # -- accounts and sessions -------------------------------------------------------------

    def account(self, name: str) -> Account:
        with self.lock:
            key = name.removeprefix("@").lower()
            if key not in self.accounts:
                known = ", ".join(self.accounts)
                raise NotFound(f"unknown account {name!r} (known: {known})")
            return self.accounts[key]

    def login(self, username: str, password: str) -> str | None:
        """A new session token when the password matches, else None."""
        with self.lock:
            try:
                acc = self.account(username)
            except SandboxError:
                return None
            if not secrets.compare_digest(password, acc.password):
                return None
            token = secrets.token_urlsafe(24)
            self.sessions[token] = acc.name
            return token

    def session_account(self, token: str | None) -> Account | None:
        with self.lock:
            name = self.sessions.get(token or "")
            return self.accounts.get(name) if name else None

    def logout(self, token: str | None) -> None:
        with self.lock:
            self.sessions.pop(token or "", None)

    def set_fault(self, account: str, mode: str, slow_ms: int | None = None) -> Account:
        if mode not in FAULT_MODES:
            raise SandboxError(f"unknown fault mode {mode!r} (known: {', '.join(FAULT_MODES)})")
        with self.lock:
            acc = self.account(account)
            acc.fault = mode
            acc.slow_ms = slow_ms if slow_ms is not None else DEFAULT_SLOW_MS
            return acc

    def impostor_of(self, name: str) -> Account:
        """The account a ``wrong_account`` fault shows instead of ``name`` (the next one)."""
        with self.lock:
            names = list(self.accounts)
            return self.accounts[names[(names.index(name) + 1) % len(names)]]

    # -- content ---------------------------------------------------------------------------

    def add_post(
        self, account: str, caption: str, *, image: str | None = None, time: datetime | None = None
    ) -> Post:
        caption, image = clean_text(caption), _clean_opt(image)
        with self.lock:
            acc = self.account(account)
            when = self._stamp(time)
            post = Post(id=self._next_id("p"), account=acc.name, caption=caption, time=when)
            post.image = image
            self.posts[post.id] = post
            self._track(when)
            return post

    def add_thread(self, account: str, participant: str) -> Thread:
        participant = clean_text(participant)
        with self.lock:
            acc = self.account(account)
            thread = Thread(id=self._next_id("t"), account=acc.name, participant=participant)
            self.threads[thread.id] = thread
            return thread

    def _new_message(
        self,
        kind: Literal["comment", "dm"],
        account: str,
        container_id: str,
        author: str,
        text: str,
        *,
        message_id: str | None,
        time: datetime | None,
        image: str | None,
        from_brand: bool,
    ) -> Message:
        if message_id is not None and message_id in self.messages:
            raise SandboxError(f"message id {message_id!r} already exists")
        if not text.strip() and not image:
            raise SandboxError("a message needs text or an image: this one has only blanks")
        when = self._stamp(time)
        self._seq += 1
        msg = Message(
            id=message_id or self._next_id("c" if kind == "comment" else "m"),
            kind=kind,
            account=account,
            container_id=container_id,
            author=author,
            text=text,
            time=when,
            seq=self._seq,
            image=image,
            from_brand=from_brand,
        )
        self.messages[msg.id] = msg
        self._track(when)
        return msg

    def add_comment(
        self,
        account: str,
        author: str,
        text: str,
        *,
        post_id: str | None = None,
        parent_id: str | None = None,
        message_id: str | None = None,
        time: datetime | None = None,
        image: str | None = None,
        from_brand: bool = False,
    ) -> Message:
        """A comment on ``post_id`` (default: the account's newest post; one is made if none)."""
        author, text, image = clean_text(author), clean_text(text), _clean_opt(image)
        message_id = _clean_opt(message_id)
        with self.lock:
            acc = self.account(account)
            post = self._post_for(acc.name, post_id)
            parent = None
            if parent_id is not None:
                parent = self.messages.get(parent_id)
                if parent is None or parent.kind != "comment" or parent.container_id != post.id:
                    raise NotFound(f"no comment {parent_id!r} on post {post.id}")
            msg = self._new_message(
                "comment",
                acc.name,
                post.id,
                author,
                text,
                message_id=message_id,
                time=time,
                image=image,
                from_brand=from_brand,
            )
            if parent is not None:
                msg.parent_id = parent.id
                msg.root_id = parent.root_id or parent.id
            post.comment_ids.append(msg.id)
            return msg

    def _post_for(self, account: str, post_id: str | None) -> Post:
        if post_id is None:
            own = self.posts_of(account)
            return own[0] if own else self.add_post(account, "Hello from the sandbox")
        post = self.posts.get(post_id)
        if post is None or post.account != account:
            raise NotFound(f"account {account!r} has no post {post_id!r}")
        return post

    def add_dm(
        self,
        account: str,
        author: str,
        text: str,
        *,
        thread_id: str | None = None,
        message_id: str | None = None,
        time: datetime | None = None,
        image: str | None = None,
        from_brand: bool = False,
    ) -> Message:
        """A DM in ``thread_id`` (default: the thread with ``author``, made if missing)."""
        author, text, image = clean_text(author), clean_text(text), _clean_opt(image)
        message_id = _clean_opt(message_id)
        with self.lock:
            acc = self.account(account)
            if thread_id is None:
                thread = next(
                    (
                        t
                        for t in self.threads.values()
                        if t.account == acc.name and t.participant == author
                    ),
                    None,
                ) or self.add_thread(acc.name, author)
            else:
                found = self.threads.get(thread_id)
                if found is None or found.account != acc.name:
                    raise NotFound(f"account {acc.name!r} has no thread {thread_id!r}")
                thread = found
            msg = self._new_message(
                "dm",
                acc.name,
                thread.id,
                author,
                text,
                message_id=message_id,
                time=time,
                image=image,
                from_brand=from_brand,
            )
            thread.message_ids.append(msg.id)
            if from_brand:
                thread.read_seq = msg.seq
            return msg

    def record_reply(
        self,
        account: str,
        kind: Literal["comment", "dm"],
        container_id: str,
        text: str,
        in_reply_to: str | None,
    ) -> Reply:
        """Store a reply the brand sent through a composer, and show it in the thread."""
        text = clean_text(text)
        with self.lock:
            acc = self.account(account)
            if kind == "dm":
                msg = self.add_dm(acc.name, acc.name, text, thread_id=container_id, from_brand=True)
            else:
                msg = self.add_comment(
                    acc.name,
                    acc.name,
                    text,
                    post_id=container_id,
                    parent_id=in_reply_to,
                    from_brand=True,
                )
            reply = Reply(
                seq=len(self.replies) + 1,
                account=acc.name,
                kind=kind,
                container_id=container_id,
                in_reply_to=in_reply_to,
                text=text,
                time=msg.time,
                message_id=msg.id,
            )
            self.replies.append(reply)
            return reply

    # -- queries (newest first everywhere) -------------------------------------------------

    def posts_of(self, account: str) -> list[Post]:
        with self.lock:
            own = [p for p in self.posts.values() if p.account == account]
            return sorted(own, key=lambda p: p.time, reverse=True)

    def post(self, account: str, post_id: str) -> Post | None:
        with self.lock:
            post = self.posts.get(post_id)
            return post if post is not None and post.account == account else None

    def comment_threads(self, post: Post) -> list[tuple[Message, list[Message], Message]]:
        """(top-level comment, its replies newest first, newest item) per thread, sorted by the
        newest item in the thread, newest first — a new reply lifts its thread to the top."""
        with self.lock:
            comments = [self.messages[i] for i in post.comment_ids]
            replies: dict[str, list[Message]] = {}
            for c in comments:
                if c.root_id:
                    replies.setdefault(c.root_id, []).append(c)
            out = []
            for c in comments:
                if c.root_id:
                    continue
                kids = sorted(replies.get(c.id, []), key=_order, reverse=True)
                latest = max([c, *kids], key=_order)
                out.append((c, kids, latest))
            out.sort(key=lambda t: _order(t[2]), reverse=True)
            return out

    def threads_of(self, account: str) -> list[tuple[Thread, Message | None, int]]:
        """(thread, newest message, unread count), newest activity first."""
        with self.lock:
            rows = []
            for t in self.threads.values():
                if t.account != account:
                    continue
                msgs = [self.messages[i] for i in t.message_ids]
                last = max(msgs, key=_order) if msgs else None
                unread = sum(1 for m in msgs if not m.from_brand and m.seq > t.read_seq)
                rows.append((t, last, unread))
            rows.sort(
                key=lambda r: _order(r[1]) if r[1] else (datetime.min.replace(tzinfo=UTC), 0),
                reverse=True,
            )
            return rows

    def thread(self, account: str, thread_id: str) -> Thread | None:
        with self.lock:
            t = self.threads.get(thread_id)
            return t if t is not None and t.account == account else None

    def thread_messages(self, thread: Thread) -> list[Message]:
        with self.lock:
            msgs = [self.messages[i] for i in thread.message_ids]
            return sorted(msgs, key=_order, reverse=True)

    def mark_read(self, thread: Thread) -> None:
        with self.lock:
            if thread.message_ids:
                thread.read_seq = max(self.messages[i].seq for i in thread.message_ids)

    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-ready data (the admin API's ``GET /admin/state``)."""
        with self.lock:
            return {
                "accounts": [
                    {
                        "name": a.name,
                        "handle": a.handle,
                        "fault": a.fault,
                        "slow_ms": a.slow_ms,
                        "posts": [p.id for p in self.posts_of(a.name)],
                        "threads": [t.id for t, _, _ in self.threads_of(a.name)],
                    }
                    for a in self.accounts.values()
                ],
                "posts": [
                    {
                        "id": p.id,
                        "account": p.account,
                        "caption": p.caption,
                        "time": p.time.isoformat(),
                        "image": p.image,
                        "comments": len(p.comment_ids),
                    }
                    for p in self.posts.values()
                ],
                "threads": [
                    {
                        "id": t.id,
                        "account": t.account,
                        "participant": t.participant,
                        "messages": len(t.message_ids),
                        "unread": unread,
                    }
                    for a in self.accounts
                    for t, _, unread in self.threads_of(a)
                ],
                "messages": [
                    m.to_json() for m in sorted(self.messages.values(), key=lambda m: m.seq)
                ],
                "replies": [r.to_json() for r in self.replies],
            }


def _order(m: Message) -> tuple[datetime, int]:
    return (m.time, m.seq)
