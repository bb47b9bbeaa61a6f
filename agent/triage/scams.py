"""Scams aimed at a brand's customers: recovery scams, fake giveaways, lookalike accounts.

These are spam by the label guide, but dropping them silently would leave the scam in
front of the brand's customers: they are kept, routed to moderation with P1 and the
reviewer sees which of these fired and on what (``why``).

- ``scam.lookalike``: the author, or an account the text points people to, has a handle
  that resembles one of the workspace's own handles without being it (``@brand.support``,
  ``@brand_help``, ``@brandrecovery``, ``@br4nd``);
- ``scam.recovery``: a recovery scam, someone pointing others to a helper who "got my
  money back" or "recovered my account" (en, es, pt, fr, de);
- ``scam.giveaway``: a fake giveaway or prize ("you won", "claim your reward") with a way
  to claim it (a link, a DM, an account to contact).

Own handles come from the item's account and the configuration (``own_handles``). Text is
only matched, never followed or obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.triage.models import RuleHit

FAMILY = "scam"

_HANDLE = re.compile(r"(?<![\w@])@([a-z0-9_][a-z0-9_.]{1,40})", re.IGNORECASE)
_SEPARATORS = str.maketrans("", "", "._-")
_LOOKALIKE_DIGITS = {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t"}
_DIGIT_LOOKALIKES = str.maketrans(_LOOKALIKE_DIGITS)
# words a lookalike adds to a brand's name to look like its service desk
_DESK_WORDS = (
    "support", "help", "helpdesk", "care", "service", "services", "official", "oficial",
    "officiel", "offiziell", "team", "recovery", "recover", "refund", "refunds", "claims",
    "claim", "giveaway", "giveaways", "promo", "promos", "rewards", "reward", "winner",
    "winners", "win", "wins", "prize", "prizes", "gift", "gifts", "contest", "events",
    "event", "desk", "assist", "agent", "hq", "real", "verified", "admin", "info", "online",
    "global", "ayuda", "soporte", "atencion", "sorteo", "sorteos", "premio", "premios",
    "suporte", "ajuda", "atendimento", "sorteio", "premiacao", "resgate", "aide", "sav",
    "assistance", "jeux", "concours", "cadeau", "hilfe", "kundenservice", "gewinnspiel",
    "gewinn",
)  # fmt: skip
_GENERIC = re.compile("(?:" + "|".join(sorted(_DESK_WORDS, key=len, reverse=True)) + ")")
# words a "helper" account's handle is made of: @fundsback_agent, @recuperafondos_ok
_HELPER_HANDLE = re.compile(
    r"fund|recover|recupera|hack|refund|reembols|chargeback|rueckbuchung|ruckbuchung|"
    r"estorno|rembours|moneyback|cashback|restore|unlock"
)

_POINTS_TO = (
    r"\b(?:contact|dm|message|text|write to|reach out|hit up|talk to|e-?mail|whatsapp|"
    r"telegram|found|look up|search|chama|fala com|mand[ae]|escrib\w*|contact\w*|ecri\w*|"
    r"schreib\w*|anschreiben|melde\w*|kontakt\w*)"
)
_RECOVERED = (
    r"\b(?:recovered|got (?:\w+ ){0,3}back|back every|reversed (?:mine|it|my|the)|"
    r"refunded (?:me|it|mine|all|everything)|restored (?:my|it|everything|mine)|"
    r"helped me (?:get|recover|restore)|sorted (?:me|it) out|me devolvieron|"
    r"me (?:la|lo) recupero|recuperaron|recuperou|resolveu (?:meu|minha)|"
    r"m'?ont (?:tout )?rembourse|m'?a aide|(?:hat|haben) mir geholfen|ruckgangig gemacht|"
    r"zuruckgeholt|wiederhergestellt)"
)
_RECOVERY = re.compile(
    rf"{_POINTS_TO}.{{0,80}}{_RECOVERED}|{_RECOVERED}.{{0,80}}{_POINTS_TO}|"
    rf"@\S+.{{0,60}}{_RECOVERED}|{_RECOVERED}.{{0,60}}@\S+",
    re.IGNORECASE | re.DOTALL,
)
_POINTS_TO_RE = re.compile(_POINTS_TO)
_POINTS_TO_DESK = re.compile(_POINTS_TO + r"|\bthem\b|\bour (?:official|page)")
_PHONE = re.compile(r"\+?\d[\d ()-]{8,}\d")
_PRIZE = re.compile(
    r"\b(?:you(?:'ve| have)? (?:just )?won\b|(?:you|u|ur|you'?re) (?:one of )?(?:the |our |a )?"
    r"(?:lucky )?winners?|winners? alert|(?:lucky|selected|chosen) winners?|"
    r"claim (?:your|the|ur) (?:prize|reward|gift|voucher)|giveaway winner|"
    r"free (?:iphone|gift card|prize)|has ganado|ganaste|(?:el|la) ganador(?:a)? del|"
    r"ganadores|reclama tu (?:premio|regalo)|(?:voce|vc) (?:foi sorteado|ganhou)|ganhou um|"
    r"sorteado|resgate seu (?:premio|presente)|(?:vous avez|tu as) gagne|"
    r"(?:des|les) gagnants|reclamez votre|(?:du hast|sie haben) .{0,60}gewonnen|gewinner)",
    re.IGNORECASE,
)
_CLAIM_BY = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|net|org|de|fr|es|br|io|co|me|link|xyz|info|shop)\b|"
    r"\b(?:dm|direct|privado|link|bio|click|clique|klick|claim|reclam\w*|resgat\w*|"
    r"einlosen|escrib\w*|manda\w*)\b"
)


@dataclass(frozen=True)
class Brand:
    """The workspace's own handles, reduced to what a lookalike copies."""

    handles: frozenset[str]  # as written, lower case, without "@"
    cores: frozenset[str]  # separators, digits-as-letters and desk words removed

    @classmethod
    def of(cls, handles: Iterable[str | None]) -> Brand:
        own = {h.strip().lstrip("@").casefold() for h in handles if h and h.strip().lstrip("@")}
        cores = {c for c in (_core(h) for h in own) if len(c) >= 3}
        return cls(frozenset(own), frozenset(cores))


def _skeleton(handle: str) -> str:
    return handle.casefold().lstrip("@").translate(_SEPARATORS).translate(_DIGIT_LOOKALIKES)


def _core(handle: str) -> str:
    return _GENERIC.sub("", _skeleton(handle))


def _close(a: str, b: str) -> bool:
    """Edit distance at most 1 (one letter swapped in, dropped or added)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def lookalike(handle: str, brand: Brand) -> bool:
    """A handle resembling one of the brand's own without being one of them."""
    name = handle.strip().lstrip("@").casefold()
    if not name or name in brand.handles or not brand.cores:
        return False
    skeleton, core = _skeleton(name), _core(name)
    disguised = any(c in _LOOKALIKE_DIGITS for c in name)  # "br4nd": a digit for a letter
    for own in brand.cores:
        if core == own or (len(own) >= 5 and _close(core, own)):
            return True
        if own in skeleton and skeleton != own:
            rest = skeleton.replace(own, "", 1)
            if disguised or _GENERIC.search(rest):
                return True
    return False


def _desk_like(handle: str) -> bool:
    """A handle dressed as a service desk: two desk words, or one behind a dot
    (``@emberfall.support.team``); brands' real desks (``@AmazonHelp``) are one word."""
    name = handle.casefold()
    words = _GENERIC.findall(name.translate(_SEPARATORS))
    return len(words) >= 2 or (bool(words) and "." in name)


def handles_in(text: str) -> list[str]:
    """The @handles a text names, without a sentence's final dot."""
    return [h.rstrip(".") for h in _HANDLE.findall(text)]


def check(text: str, folded: str, author: str, brand: Brand) -> list[RuleHit]:
    """The scam signals in one item (``text`` as written, ``folded`` casefolded)."""
    hits: list[RuleHit] = []
    named = handles_in(text)
    suspects = [h for h in named if lookalike(h, brand)]
    if author and lookalike(author, brand):
        hits.append(RuleHit("scam.lookalike", FAMILY, f"author @{author.lstrip('@')}"))
    elif suspects:
        hits.append(RuleHit("scam.lookalike", FAMILY, f"points to @{suspects[0]}"))
    others = [h for h in named if h.casefold() not in brand.handles]
    helpers = [h for h in others if _HELPER_HANDLE.search(h.casefold().translate(_SEPARATORS))]
    desks = [h for h in others if _desk_like(h)]
    if desks and not suspects and _POINTS_TO_DESK.search(folded):
        hits.append(RuleHit("scam.lookalike", FAMILY, f"points to a service desk @{desks[0]}"))
    if helpers and _POINTS_TO_RE.search(folded):
        hits.append(RuleHit("scam.recovery", FAMILY, f"points to @{helpers[0]}"))
    elif others or "whatsapp" in folded or _PHONE.search(folded):  # someone to contact
        recovery = _RECOVERY.search(folded)
        if recovery:
            hits.append(RuleHit("scam.recovery", FAMILY, recovery.group(0)[:60]))
    prize = _PRIZE.search(folded)
    if prize and (_CLAIM_BY.search(folded) or "@" in text or hits):
        hits.append(RuleHit("scam.giveaway", FAMILY, prize.group(0)[:60]))
    return hits
