"""Deterministic content for the sandbox: the same seed gives the same posts, comments and DMs.

All randomness comes from one ``random.Random(seed)`` and all times from a fixed anchor
(``ANCHOR``, in the past), so two fresh sandboxes seeded alike serve identical pages and ids.
Every seeded account gets the awkward cases a sweep must survive: emojis, very long text,
right-to-left and zero-width characters, images, nested replies and hostile text (HTML,
``<script>``, ``javascript:`` links), which the pages must render inert.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sandbox.state import SandboxState

ANCHOR = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

AUTHORS = (
    "maria.k",
    "jdoe",
    "sam_the_builder",
    "noor",
    "li.wei",
    "ola_nordmann",
    "tanaka.h",
    "pat.q",
    "ravi.s",
    "zoe_b",
    "kwame",
    "ines.r",
    "dmitri",
    "ana.sofia",
    "olu.ade",
    "yuki.t",
    "chris_p",
    "fatima.z",
    "lars.e",
    "mei.ling",
)
OPENERS = (
    "Love this!",
    "When will this be back in stock?",
    "My order hasn't arrived yet.",
    "Can I get a refund for order #{n}?",
    "The app keeps crashing on login.",
    "Is there a student discount?",
    "Great service today, thanks!",
    "Any plans for a dark mode?",
    "I was charged twice this month.",
    "Do you ship to Canada?",
    "Who should I talk to about a partnership?",
    "This is the third time I ask, nobody answers.",
    "Site is down for me.",
    "How do I reset my password?",
    "Can you DM me the price list?",
)
SPECIALS = (
    "🎉🔥 Best launch ever!!! 😍👏🏽👨‍👩‍👧‍👦",
    "مرحبا، هل يمكنني تغيير عنوان الشحن؟ שלום, תודה!",
    "zero\u200bwidth\u200csplit\u200dtext\ufeffhere",
    '<b>bold?</b> <img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script>',
    'click <a href="javascript:window.__pwned=1">here</a> or javascript:window.__pwned=1',
    "Long story: "
    + " ".join(["the parcel went back and forth between depots"] * 40)
    + " "
    + "A" * 300,
    "Visit https://example.com/help?x=1&y=<2> for details",
)
CAPTIONS = (
    "Our spring collection is here 🌸",
    "Behind the scenes at the factory",
    "Meet the team!",
    "Service update: new support hours",
    "Giveaway time 🎁",
    "Thank you for 10k followers",
    "Sneak peek of what's next",
)


@dataclass(frozen=True)
class SeedSize:
    posts_per_account: int = 3
    comments_per_post: int = 30
    threads_per_account: int = 6
    messages_per_thread: int = 8


def seed_state(state: SandboxState, seed: int, size: SeedSize | None = None) -> None:
    """Reset ``state`` and fill it with the content for ``seed``."""
    size = size or SeedSize()
    rng = random.Random(seed)
    with state.lock:
        state.reset()
        for account in list(state.accounts):
            _seed_account(state, rng, account, size)


def _text(rng: random.Random) -> str:
    text = rng.choice(OPENERS).format(n=rng.randint(1000, 9999))
    if rng.random() < 0.3:
        text += " " + rng.choice(("🙂", "🙏", "😡", "❤️", "🤔", "👍"))
    return text


def _image(rng: random.Random) -> str | None:
    return f"/media/img-{rng.randint(1, 40)}.svg" if rng.random() < 0.15 else None


def _seed_account(state: SandboxState, rng: random.Random, account: str, size: SeedSize) -> None:
    clock = ANCHOR - timedelta(days=rng.randint(20, 40))
    specials = list(SPECIALS)
    rng.shuffle(specials)

    def tick() -> datetime:
        nonlocal clock
        clock += timedelta(minutes=rng.randint(1, 180), seconds=rng.randint(0, 59))
        return clock

    for p in range(size.posts_per_account):
        post = state.add_post(
            account,
            rng.choice(CAPTIONS),
            image=f"/media/post-{rng.randint(1, 40)}.svg",
            time=tick(),
        )
        tops: list[str] = []
        for i in range(size.comments_per_post):
            text = specials[i % len(specials)] if p == 0 and i < len(specials) else _text(rng)
            parent = rng.choice(tops) if tops and rng.random() < 0.25 else None
            from_brand = parent is not None and rng.random() < 0.3
            msg = state.add_comment(
                account,
                account if from_brand else rng.choice(AUTHORS),
                text,
                post_id=post.id,
                parent_id=parent,
                time=tick(),
                image=_image(rng),
                from_brand=from_brand,
            )
            if parent is None:
                tops.append(msg.id)
    for t in range(size.threads_per_account):
        thread = state.add_thread(account, rng.choice(AUTHORS) + ("" if t < 10 else f"{t}"))
        for i in range(size.messages_per_thread):
            special = t == 0 and i < len(specials)
            from_brand = not special and i > 0 and rng.random() < 0.3
            state.add_dm(
                account,
                account if from_brand else thread.participant,
                specials[i] if special else _text(rng),
                thread_id=thread.id,
                time=tick(),
                image=_image(rng),
                from_brand=from_brand,
            )
        if rng.random() < 0.5:
            state.mark_read(thread)


def bulk_items(
    state: SandboxState,
    account: str,
    kind: str,
    count: int,
    *,
    seed: int = 0,
    container_id: str | None = None,
    author: str | None = None,
) -> list[str]:
    """Add ``count`` generated comments or DMs (deterministic for ``seed``); their ids."""
    rng = random.Random(seed)
    ids = []
    with state.lock:
        for _ in range(count):
            who = author or rng.choice(AUTHORS)
            if kind == "comment":
                msg = state.add_comment(account, who, _text(rng), post_id=container_id)
            else:
                msg = state.add_dm(account, who, _text(rng), thread_id=container_id)
            ids.append(msg.id)
    return ids
