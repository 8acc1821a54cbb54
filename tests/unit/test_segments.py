"""core.segments: where a message asks more than one thing, and how the answers are joined."""

from __future__ import annotations

import pytest

from core.ports import AssistantReply, AssistantTurn
from core.segments import MAX_SEGMENTS, join_turns, question_segments
from core.turn import Request


@pytest.mark.parametrize(
    "text, expected",
    [
        # two question marks
        (
            "can I wear makeup tomorrow? and when can I go back to the gym",
            ["can I wear makeup tomorrow?", "when can I go back to the gym"],
        ),
        ("How much is it? How many sessions do I need?", ["How much is it?", "How many sessions do I need?"]),
        ("¿Cuánto cuesta? ¿Y cuántas sesiones necesito?", ["¿Cuánto cuesta?", "cuántas sesiones necesito?"]),
        # run-on: a connector followed by a question opener
        ("can i work out tmrw and when can i go in the sun", ["can i work out tmrw", "when can i go in the sun"]),
        ("how long does it take plus is it painful", ["how long does it take", "is it painful"]),
        (
            "puedo usar maquillaje mañana y cuando puedo volver al gym",
            ["puedo usar maquillaje mañana", "cuando puedo volver al gym"],
        ),
        # a comma before an opener
        ("can i wear makeup tomorrow, when can i work out", ["can i wear makeup tomorrow", "when can i work out"]),
        # run-on with no connector: two words that can only open a question, after a clause of its own
        ("is it safe for dark skin how long does it take", ["is it safe for dark skin", "how long does it take"]),
        ("whats the price for 3 sessions do you take care credit", ["whats the price for 3 sessions", "do you take care credit"]),
        # context sentences stay with the question after them
        (
            "my skin is peeling a lot. is that normal? also when can i exfoliate again",
            ["my skin is peeling a lot. is that normal?", "when can i exfoliate again"],
        ),
        (
            "me lo hice el lunes, ya me puedo poner crema y cuando puedo usar el retinol",
            ["me lo hice el lunes, ya me puedo poner crema", "cuando puedo usar el retinol"],
        ),
    ],
)
def test_two_questions_are_found_in_the_patients_order(text: str, expected: list[str]) -> None:
    assert question_segments(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "can i use sunscreen and moisturizer tomorrow",
        "is it normal to be red and tight on day 2",
        "when can i wash my face and put makeup on",
        "is it ok to wear sunscreen, makeup, and moisturizer on day 2?",
        "after day 3, is it ok to wear makeup",
        "hi, so i had it done on friday, my face is a bit dry, can i use my moisturizer",
        "can i go to the gym? i usually do hot yoga",
        "so, can i or not?",
        "makeup?",
        "",
        "se puede usar protector solar y crema hidratante el dia 2",
        # a question inside a sentence is not a second question
        "can you tell me how long it lasts",
        "i was wondering when can i wear makeup",
        "do you know if i can swim",
        "how many sessions do i need for acne scars",
        "how long do i wait before i can go in the sun",
        # a question word and no verb, fronting the question after it
        "How soon after treatment, can I restart my retinoid?",
        "how many days before should i stop actives",
    ],
)
def test_one_question_is_left_whole(text: str) -> None:
    assert question_segments(text) == [text.strip()]


def test_a_list_of_questions_is_capped() -> None:
    text = "can I wear makeup? can I work out? can I use retinol? can I go in the sun? can I swim?"
    assert len(question_segments(text)) == MAX_SEGMENTS


def _turn(intent: str | None, text: str, topic: str | None = None, requests: list[Request] | None = None) -> AssistantTurn:
    return AssistantTurn([AssistantReply(text)], intent=intent, confidence=0.9, topic=topic, requests=requests or [])


def test_answers_are_joined_once_per_topic_without_small_talk_or_unclear_parts() -> None:
    handoff = Request(kind="handoff", reason="no guidance")
    joined = join_turns(
        [
            _turn("greet", "Hi!"),
            _turn("makeup", "No makeup for 24 hours."),
            _turn("nlu_fallback", "Did you mean...?"),
            _turn("makeup", "No makeup for 24 hours."),
            _turn("out_of_guide", "I have no guidance on that.", requests=[handoff]),
        ]
    )
    assert joined is not None
    assert [r.text for r in joined.replies] == ["No makeup for 24 hours.", "I have no guidance on that."]
    assert joined.intent == "makeup" and joined.requests == [handoff]


def test_fewer_than_two_answered_questions_give_none() -> None:
    """The caller then asks about the whole message: one question and a fragment is not a split to trust."""
    assert join_turns([_turn("greet", "Hi!"), _turn("nlu_fallback", "Sorry?"), _turn(None, "")]) is None
    assert join_turns([_turn("greet", "Hi!"), _turn("makeup", "No makeup for 24 hours.")]) is None
    assert join_turns([_turn("makeup", "No makeup."), _turn("makeup", "No makeup.")]) is None
