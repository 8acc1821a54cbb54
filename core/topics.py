"""Topic ids the web chat API reports (docs/spec/topics.yml), with their short titles.

The titles are patient-facing (button labels, numbered SMS options): they are written in
content/en/topics.yml, and a missing one fails when this module is imported.
"""

from __future__ import annotations

from core import content

TOPICS: tuple[str, ...] = (
    "prep_checklist",
    "prep_products_to_pause",
    "candidacy_conditions",
    "darker_skin",
    "what_is_microneedling",
    "treatment_pain",
    "treatment_duration",
    "at_home_rollers",
    "combine_treatments",
    "normal_reactions",
    "downtime",
    "makeup",
    "skincare_restart",
    "sun_protection",
    "exercise_sweat",
    "washing_face",
    "hydration_products",
    "peeling_flaking",
    "results_timeline",
    "results_for_concern",
    "results_longevity",
    "sessions_needed",
    "maintenance_frequency",
    "results_factors",
    "safety_general",
    "when_to_call",
    "my_recovery_day",
    "book_appointment",
    "talk_to_staff",
    "pricing",
    "clinic_info",
    "greet",
    "goodbye",
    "thanks",
    "bot_challenge",
    "out_of_scope",
    "symptom_report",
)
TOPIC_IDS: frozenset[str] = frozenset(TOPICS)
_say = content.Area("topics", TOPICS)


def topic_title(topic: str) -> str:
    """The short title of a topic (a button, a numbered SMS option), in the language being spoken."""
    return _say(topic) if topic in TOPIC_IDS else topic.replace("_", " ").capitalize()
