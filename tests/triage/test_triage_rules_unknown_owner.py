"""Stop rule: an item that matches no routing owner pauses with unknown_owner."""

from agent.triage import Pipeline, TriageInput, load_config


def test_unknown_owner_pauses_without_draft() -> None:
    config = load_config(
        {
            "routing": {
                "rules": [
                    {
                        "name": "only-acme",
                        "conditions": [
                            {"attribute": "workspace", "operator": "equal_to", "values": ["acme"]}
                        ],
                        "actions": {"queue": "support", "owner": "ana", "sla_minutes": 60},
                    }
                ]
            }
        }
    )
    pipe = Pipeline(config)
    other = pipe.triage(
        TriageInput(id="1", text="love this so much ❤️", platform="x", workspace="globex")
    )
    assert other.action == "pause"
    assert other.pause_reasons == ["routing.unknown_owner"]
    assert other.owner is None and other.draft is None
    acme = pipe.triage(
        TriageInput(id="2", text="love this so much!", platform="x", workspace="acme")
    )
    assert acme.owner == "ana" and acme.action != "pause"


def test_rule_without_owner_is_unknown_owner() -> None:
    config = load_config(
        {"routing": {"rules": [{"name": "no-owner", "actions": {"queue": "support"}}]}}
    )
    d = Pipeline(config).triage(TriageInput(id="1", text="is it vegan?", platform="x"))
    assert d.action == "pause" and "routing.unknown_owner" in d.pause_reasons
