"""Drafts: approved categories and saved replies only, variables, ask once, move to DM."""

import pytest

from agent.triage import Pipeline, TriageInput, load_config
from agent.triage.drafts import make_draft


@pytest.fixture(scope="module")
def knowledge():
    return load_config(None).knowledge


def test_draft_fills_variables_and_records_source(knowledge) -> None:
    item = TriageInput(id="1", text="where is order #55120?", platform="x", kind="dm", author="@li")
    text, source, _ = make_draft(item, "order_issue", "en", knowledge)
    assert source == "order_status" and "55120" in text and "li" in text


def test_missing_details_are_asked_for_in_one_message(knowledge) -> None:
    item = TriageInput(id="1", text="my order never came", platform="x", kind="dm", author="li")
    text, source, why = make_draft(item, "order_issue", "en", knowledge)
    assert source == "ask_details" and "your order number" in text
    assert "{" not in text


def test_public_comment_needing_private_data_gets_move_to_dm(knowledge) -> None:
    item = TriageInput(id="1", text="order #12345 is late", platform="x", kind="comment")
    text, source, _ = make_draft(item, "order_issue", "en", knowledge)
    assert source == "move_to_dm" and "12345" not in text


def test_no_draft_outside_approved_intents(knowledge) -> None:
    item = TriageInput(id="1", text="we want 500 units", platform="x", kind="dm")
    assert make_draft(item, "sales_lead", "en", knowledge) is None


def test_language_specific_reply_is_preferred(knowledge) -> None:
    item = TriageInput(id="1", text="me encanta", platform="x", author="ana")
    _, source, _ = make_draft(item, "praise", "es", knowledge)
    assert source == "thanks_es"


def test_pipeline_drafts_only_approved_items() -> None:
    config = load_config({"knowledge": {"reply_policy": {"approved_intents": []}}})
    d = Pipeline(config).triage(TriageInput(id="1", text="love it so much ❤️", platform="x"))
    assert d.draft is None and d.draft_source is None
