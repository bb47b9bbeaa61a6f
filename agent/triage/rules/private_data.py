"""Private data present or requested.

Present: email addresses, phone numbers, street addresses, payment card numbers
(13–19 digits passing the Luhn check), IBANs (mod-97 checksum), and order numbers
next to personal details (a name). Requested: asking for someone else's contact
details, or asking people to send card numbers, CVVs, passwords or PINs.
Evidence is masked so a pause reason never repeats the private value.
"""

from __future__ import annotations

import re

from agent.triage.models import RuleHit
from agent.triage.rules._patterns import Family

FAMILY = "private_data"

_HAS_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[a-z]{2,24}\b")
_DIGIT_RUN = re.compile(r"(?<![\w#])\+?\(?\d[\d ().-]{6,22}\d(?!\w)")
_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,4})?\b")
_ORDER = re.compile(
    r"\b(?:order|pedido|encomenda|commande|bestellung|auftrag)\s*(?:#|no\.?|nr\.?|n°|number|numero|nummer)?\s*:?\s*#?\d{4,}"  # noqa: E501
)
_ORDER_CONTEXT = re.compile(
    r"(?:order|pedido|bestellung|commande|#|ref|invoice|factura|rechnung)\W{0,3}$"
)
_NAME = re.compile(
    r"\b(?:my name is|me llamo|mi nombre es|meu nome e|je m'appelle|mon nom est|ich heisse|mein name ist)\s+\w+"  # noqa: E501
)

RULES = Family(
    FAMILY,
    {
        "street_address": [
            r"\b\d{1,5}[a-z]? (?:[a-z]+ ){1,3}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|blvd|boulevard|court|ct|way|place|pl)\b",  # noqa: E501
            r"\b(?:my address is|i live at|deliver(?:ed)? to) \d",
            r"\b(?:calle|avenida|av\.|rua|travessa|alameda|paseo|plaza|praca) [a-z][a-z ]{1,30},? (?:n[o°.]? ?)?\d{1,5}\b",  # noqa: E501
            r"\b\d{1,4},? (?:bis )?(?:rue|avenue|boulevard|bd|chemin|allee|impasse|place) ",
            r"\b[a-z]+(?:strasse|str\.|weg|allee|platz|gasse|ring|damm) \d{1,4}[a-z]?\b",
            r"\b(?:mi direccion es|minha rua|meu endereco e|mon adresse est|meine adresse ist|ich wohne in der)\b",  # noqa: E501
        ],
        "third_party_request": [
            r"\b(?:give|send|tell|share|get|pass|dm) (?:me|us) (?:the|his|her|their) (?:email|e-mail|phone|number|address|contact)",  # noqa: E501
            r"\b(?:email|e-mail|phone number|number|address|contact details?|home address) of (?:the|your|this|that|my) (?:girl|guy|person|man|woman|employee|driver|courier|winner|staff|worker|seller|user|customer)",  # noqa: E501
            r"\b(?:numero de telefono|telefono|correo|direccion|email|endereco|telefone|numero) d(?:el|e la|o|a) (?:repartidor|repartidora|empleado|empleada|chica|chico|ganador|ganadora|entregador|funcionario|funcionaria|vendedor|vendedora|moca|cara)",  # noqa: E501
            r"\b(?:l'adresse|le numero|l'e-?mail|le telephone) d(?:e|u) (?:votre|la|ce|cette|l'|livreur|vendeu)",  # noqa: E501
            r"\b(?:adresse|telefonnummer|nummer|e-mail|handynummer) (?:von|vom|ihre[rs]?|eure[rs]?) (?:ihrem|eurem|dem|der|mitarbeiter|fahrer|gewinner)",  # noqa: E501
            # another customer's order or details ("my neighbour's order, her name is ...")
            r"\b(?:another|other|a different) (?:customer|person|user|passenger|guest)'?s? (?:order|details|address|phone|number|account|booking|info)",  # noqa: E501
            r"\b(?:neighbou?r|ex|friend|roommate|flatmate|colleague|coworker|boss|sister|brother|cousin|aunt|uncle|wife|husband|girlfriend|boyfriend|partner)'?s? (?:order|parcel|package|delivery|address|phone|number|e-?mail|account|booking|details)\b",  # noqa: E501
            r"\b(?:pedido|paquete|direccion|telefono|cuenta|datos) de (?:mi|otro|otra) (?:vecin[oa]|amig[oa]|ex|herman[oa]|cliente|persona)",  # noqa: E501
            r"\b(?:pedido|encomenda|endereco|telefone|conta|dados) d[oa] (?:minha |meu |outr[oa] )?(?:vizinh[oa]|amig[oa]|ex|irm[aã]o?|cliente|pessoa)",  # noqa: E501
            r"\b(?:commande|colis|adresse|numero|compte) de (?:ma |mon )?(?:voisin|voisine|ami|amie|ex|soeur|frere|un autre client)",  # noqa: E501
            r"\b(?:bestellung|paket|adresse|nummer|konto|daten) (?:meiner|meines|eines anderen) (?:nachbar\w*|freund\w*|kunden|schwester|bruders)",  # noqa: E501
        ],
        "solicitation": [
            r"\b(?:send|give|dm|tell) (?:us|me) (?:your|ur) (?:card|credit card|cvv|password|pin|bank|login|ssn|social security)",  # noqa: E501
            r"\b(?:card number|cvv|cvc)\b.{0,40}\b(?:send|dm|give|to (?:claim|receive|get))",
            r"\b(?:send|dm|give).{0,30}\b(?:card number|cvv|cvc)\b",
            r"\b(?:manda|envia|mande|envie)(?:me|nos)? (?:tu|seu|sua|o|os) (?:numero de (?:la )?tarjeta|cartao|senha|contrasena|cvv)",  # noqa: E501
            r"\benvoyez(?:-nous|-moi)? (?:votre|vos) (?:numero de carte|carte|mot de passe|code)",
            r"\bschick(?:t|en sie)? (?:uns|mir) (?:deine|ihre|eure) (?:kartennummer|pin|passwort|kreditkarte)",  # noqa: E501
        ],
    },
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _mask(value: str) -> str:
    return value[:2] + "…" + value[-2:] if len(value) > 4 else "…"


def _numbers(folded: str) -> list[RuleHit]:
    hits: list[RuleHit] = []
    for match in _DIGIT_RUN.finditer(folded):
        raw = match.group(0)
        digits = "".join(ch for ch in raw if ch.isdigit())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and not raw.startswith("+"):
            hits.append(RuleHit(f"{FAMILY}.card_number", FAMILY, _mask(digits)))
            continue
        if not 9 <= len(digits) <= 15:
            continue
        if _ORDER_CONTEXT.search(folded[max(0, match.start() - 14) : match.start()]):
            continue  # an order/invoice number, not a phone
        separated = any(ch in raw for ch in " ()-.+")
        if raw.startswith("+") or separated or 10 <= len(digits) <= 12:
            hits.append(RuleHit(f"{FAMILY}.phone_number", FAMILY, _mask(digits)))
    return hits


def check_values(folded: str) -> list[RuleHit]:
    """The checks that are more than a regex: emails, IBAN and card checksums, phones."""
    hits: list[RuleHit] = []
    if "@" in folded:
        for match in _EMAIL.finditer(folded):
            hits.append(RuleHit(f"{FAMILY}.email", FAMILY, _mask(match.group(0))))
            break
    if _HAS_DIGIT.search(folded):
        for match in _IBAN.finditer(folded):
            if iban_ok(match.group(0)):
                hits.append(RuleHit(f"{FAMILY}.iban", FAMILY, _mask(match.group(0))))
                folded = folded.replace(match.group(0), " ")
        hits.extend(_numbers(folded))
        if _ORDER.search(folded) and _NAME.search(folded):
            hits.append(RuleHit(f"{FAMILY}.order_with_personal_details", FAMILY, "order+name"))
    return _unique(hits)


def _unique(hits: list[RuleHit]) -> list[RuleHit]:
    seen: set[str] = set()
    unique = []
    for hit in hits:
        if hit.rule_id not in seen:
            seen.add(hit.rule_id)
            unique.append(hit)
    return unique


def check(folded: str) -> list[RuleHit]:
    return _unique(check_values(folded) + RULES.check(folded))
