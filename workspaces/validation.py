"""Turn a YAML Document into an immutable model, or into ConfigProblems at file:line.

Pydantic reports error locations as tuples of keys; ``Document.mark`` maps them
back to the line the person wrote. Unknown keys point at the key itself,
missing fields at the mapping that lacks them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from workspaces.errors import ConfigProblem
from workspaces.source import Document

M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base for every configuration model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def error_message(err: Any) -> str:
    """A pydantic error as a person reads it ("unknown key", "required field is missing")."""
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field is missing"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def problem_at(err: Any, doc: Document, loc: tuple[str | int, ...]) -> ConfigProblem:
    """One pydantic error, located at ``loc`` (a path in ``doc``), as a ConfigProblem."""
    if err["type"] == "union_tag_invalid":  # point at the tag key itself (kind: ...)
        loc = (*loc, str(err.get("ctx", {}).get("discriminator", "")).strip("'"))
    # A missing field has no line of its own: point at the mapping that lacks it.
    line, col = doc.mark(loc if err["type"] != "missing" else loc[:-1])
    # Pydantic inserts union tags into locations (steps.0.tap.selector): name only
    # what is in the file, plus the field itself when it is missing or unknown.
    field_loc = doc.resolve(loc)
    if loc and (not field_loc or field_loc[-1] != loc[-1]):
        field_loc = (*field_loc, loc[-1])
    return ConfigProblem(
        str(doc.path), line, col, doc.field_name(field_loc) or "(top)", error_message(err)
    )


def problems_from(
    exc: ValidationError, doc: Document, prefix: tuple[str | int, ...] = ()
) -> list[ConfigProblem]:
    return [problem_at(err, doc, (*prefix, *err["loc"])) for err in exc.errors(include_url=False)]


def parse_model(model: type[M], doc: Document) -> tuple[M | None, list[ConfigProblem]]:
    """Validate ``doc.data`` as ``model``; return the object or the problems (never both)."""
    if not isinstance(doc.data, dict):
        return None, [
            ConfigProblem(str(doc.path), 1, 1, "(top)", "expected a mapping of keys to values")
        ]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, problems_from(exc, doc)
