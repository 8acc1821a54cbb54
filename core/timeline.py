"""The recovery timeline: the one place that says what is normal on which day.

Day 0 is the treatment day. Every day-aware answer (Rasa actions) and every
day-aware triage rule (core.triage) reads its windows from here, so the two can
never disagree. Numbers carry the facts of the clinic's aftercare guide (not in this repository; the
facts are listed in docs/spec/topics.yml, the red-flag windows in docs/triage-policy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# --- Milestones the answers use (inclusive day numbers, day 0 = treatment day) ---
MAKEUP_MINERAL_FROM_DAY = 1  # no makeup for at least 24 hours; mineral makeup is the gentlest early option
MAKEUP_REGULAR_FROM_DAY = 5  # usual makeup routine around day 5
WORKOUT_FROM_DAY = 1  # no strenuous workouts, sauna or steam for at least the first 24 hours
SUN_AVOID_UNTIL_DAY = 3  # avoid direct sun for the first 72 hours (days 0, 1, 2)
GENTLE_SKINCARE_UNTIL_DAY = 5  # days 1 to 5: gentle cleanser, hyaluronic serum, moisturiser, sunscreen
NORMAL_SKINCARE_FROM_DAY = 5  # usual routine around day 5
ACTIVES_FROM_DAY = 7  # retinoids, acids and strong actives: wait at least a week
GLOW_BY_DAY = 7  # a healthy glow within about a week
RESULTS_FROM_DAY = 28  # main improvement shows at 4 to 6 weeks
RESULTS_UNTIL_DAY = 42
NEXT_SESSION_FROM_DAY = 28  # sessions are about a month apart

# --- Expected-healing windows the triage policy uses (inclusive) ---
REDNESS_EXPECTED_LAST_DAY = 3  # redness / warmth / tightness normal on days 0 to 3
SWELLING_EXPECTED_LAST_DAY = 3  # mild swelling normal on days 0 to 3
WORSENING_ALLOWED_LAST_DAY = 2  # redness or swelling getting worse after day 2 is urgent
PINPOINT_BLEEDING_LAST_DAY = 0  # pinpoint bleeding or a little clear fluid on day 0
OOZING_EXPECTED_LAST_DAY = 1  # oozing after day 1 is a sign of infection
PAIN_WORSENING_ALLOWED_LAST_DAY = 1  # severe or worsening pain after day 1 is urgent
FLAKING_EXPECTED_FIRST_DAY = 1  # dryness, flaking, peeling on days 1 to 10
FLAKING_EXPECTED_LAST_DAY = 10
ITCH_EXPECTED_LAST_DAY = 7  # mild itch while peeling, up to day 7
HEALED_FROM_DAY = 7  # colour change still there from day 7 is routine
BREAKOUTS_EXPECTED_LAST_DAY = 7  # breakouts that keep coming after the first week are routine


@dataclass(frozen=True)
class Band:
    """A stretch of recovery days that share one description."""

    key: str
    first_day: int
    last_day: int | None  # None = open-ended
    label: str


BANDS: tuple[Band, ...] = (
    Band("day0", 0, 0, "treatment day"),
    Band("day1", 1, 1, "day 1"),
    Band("day2", 2, 2, "day 2"),
    Band("days3_5", 3, 5, "days 3 to 5"),
    Band("days6_7", 6, 7, "days 6 to 7"),
    Band("weeks2_3", 8, 21, "weeks 2 to 3"),
    Band("weeks4_6", 22, 42, "weeks 4 to 6"),
    Band("later", 43, None, "after week 6"),
)


def days_since(performed_on: date, today: date) -> int:
    """Days from the treatment date to ``today`` (0 on the treatment day, negative if in the future)."""
    return (today - performed_on).days


def band_for(day: int) -> Band | None:
    """The band a recovery day falls in, or None for a day before the treatment."""
    for band in BANDS:
        if day >= band.first_day and (band.last_day is None or day <= band.last_day):
            return band
    return None
