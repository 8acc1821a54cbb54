"""The turn contract (core/turn.py) survives the trip through Rasa's metadata unchanged."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

from core.turn import ClinicInfo, ScreenFacts, TurnContext


def test_every_field_of_the_turn_context_survives_the_metadata_round_trip() -> None:
    # every field set to a value that is not its default, so a field the metadata forgets shows
    context = TurnContext(
        conversation_id="c1",
        channel="web",
        today=date(2026, 11, 29),
        message_id="m1",
        day=3,
        first_name="Ana",
        clinic=ClinicInfo(name="Glow", phone="+12015550100", booking_url="https://b", hours="9-5", address="1 Main St"),
        language="es",
        escalated="urgent",
        screen=ScreenFacts(level="urgent", expected=("redness",), needs_day=True, day_used=3),
        embedding="AAAAAA==",
        embedded_text="a1b2c3",
    )
    for f in dataclasses.fields(context):
        assert getattr(context, f.name) != f.default, f.name
    for f in dataclasses.fields(context.clinic):
        assert getattr(context.clinic, f.name) != f.default, f.name
    meta = json.loads(json.dumps(context.to_metadata()))
    assert TurnContext.from_metadata(meta, sender="other", today=date(2000, 1, 1)) == context
