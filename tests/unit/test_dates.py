"""core.dates: treatment dates and asked-about days in patients' own words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.dates import (
    asked_day_number,
    describe_target,
    extract_dates,
    find_target_date,
    mentions_treatment_date,
    parse_treatment_date,
)

WED = date(2026, 11, 25)  # a Wednesday
MON = date(2026, 11, 23)


def ago(n: int, today: date = WED) -> date:
    return today - timedelta(days=n)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("monday", ago(2)),
        ("Monday", ago(2)),
        ("last monday", ago(2)),
        ("on mon", ago(2)),
        ("I had it done on friday", ago(5)),
        ("tues", ago(1)),
        ("thurs", ago(6)),
        ("wednesday", WED),  # today's weekday means today
        ("last wednesday", ago(7)),  # "last" is strictly before today
        ("sunday", ago(3)),
        ("on sun", ago(3)),
        ("sat", ago(4)),
        ("3 days ago", ago(3)),
        ("3days ago", ago(3)),
        ("three days ago", ago(3)),
        ("a couple days ago", ago(2)),
        ("a couple of days ago", ago(2)),
        ("10 days ago", ago(10)),
        ("a week ago", ago(7)),
        ("one week ago", ago(7)),
        ("2 wks ago", ago(14)),
        ("2 weeks ago", ago(14)),
        ("5 days back", ago(5)),
        ("2 weeks out", ago(14)),
        ("3 days post treatment", ago(3)),
        ("nov 20", date(2026, 11, 20)),
        ("Nov. 20", date(2026, 11, 20)),
        ("november 20th", date(2026, 11, 20)),
        ("novmber 20", date(2026, 11, 20)),
        ("20 nov", date(2026, 11, 20)),
        ("20th of november", date(2026, 11, 20)),
        ("11/20", date(2026, 11, 20)),
        ("11/20/2026", date(2026, 11, 20)),
        ("11/20/26", date(2026, 11, 20)),
        ("20/11", date(2026, 11, 20)),  # cannot be month/day, so day/month
        ("2026-11-20", date(2026, 11, 20)),
        ("yesterday", ago(1)),
        ("yday", ago(1)),
        ("yesturday", ago(1)),
        ("today", WED),
        ("this morning", WED),
        ("earlier today", WED),
        ("the 20th", date(2026, 11, 20)),
        ("on the 2nd", date(2026, 11, 2)),
        ("the 28th", date(2026, 10, 28)),  # the 28th of this month is still to come: last month
        ("day before yesterday", ago(2)),
        ("the day before yesterday", ago(2)),
        ("i'm on day 6", ago(6)),
        ("today is day 1 for me", ago(1)),
        ("day 2 what should i expect", ago(2)),
        ("i'm a week out", ago(7)),
        ("thrusday", ago(6)),
        ("wendsday", WED),
        ("Had my microneedling on Monday!!", ago(2)),
        ("dec 25", date(2025, 12, 25)),  # month/day still to come this year: last year
        ("12/25", date(2025, 12, 25)),
    ],
)
def test_parse_treatment_date(text: str, expected: date) -> None:
    assert parse_treatment_date(text, WED) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "last week",  # vague: ask again rather than guess
        "a few days ago",
        "recently",
        "2030-01-01",  # future: never
        "feb 30",  # impossible
        "in the sun",  # "sun" alone is not Sunday
        "I sat in the sun",
        "can I wear makeup",
        "c'mon",
    ],
)
def test_parse_treatment_date_none(text: str) -> None:
    assert parse_treatment_date(text, WED) is None


def test_treatment_date_never_in_the_future() -> None:
    for text in ["friday", "dec 31", "the 30th", "11/30", "tomorrow", "in 2 days"]:
        got = parse_treatment_date(text, WED)
        assert got is None or got <= WED, text


def test_weekday_on_the_same_weekday() -> None:
    assert parse_treatment_date("monday", MON) == MON
    assert parse_treatment_date("last monday", MON) == MON - timedelta(days=7)
    assert parse_treatment_date("on monday", MON) == MON


def test_year_boundary() -> None:
    jan2 = date(2027, 1, 2)
    assert parse_treatment_date("dec 30", jan2) == date(2026, 12, 30)
    assert parse_treatment_date("3 days ago", jan2) == date(2026, 12, 30)
    assert parse_treatment_date("the 31st", jan2) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("can I work out on saturday?", date(2026, 11, 28)),
        ("saturday", date(2026, 11, 28)),
        ("sat", date(2026, 11, 28)),
        ("friday", date(2026, 11, 27)),
        ("wednesday", WED),
        ("next wednesday", WED + timedelta(days=7)),
        ("tomorrow", WED + timedelta(days=1)),
        ("tmrw", WED + timedelta(days=1)),
        ("2moro", WED + timedelta(days=1)),
        ("can i go to the gym tmr", WED + timedelta(days=1)),
        ("tonight", WED),
        ("can I wash my face tonite", WED),
        ("in 2 days", WED + timedelta(days=2)),
        ("in two days", WED + timedelta(days=2)),
        ("in a week", WED + timedelta(days=7)),
        ("in two weeks", WED + timedelta(days=14)),
        ("3 days from now", WED + timedelta(days=3)),
        ("day after tomorrow", WED + timedelta(days=2)),
        ("this weekend", date(2026, 11, 28)),
        ("over the wknd", date(2026, 11, 28)),
        ("next week", WED + timedelta(days=7)),
        ("on the 28th", date(2026, 11, 28)),
        ("dec 1", date(2026, 12, 1)),
        ("12/1", date(2026, 12, 1)),
        ("nov 20", date(2027, 11, 20)),  # already past this year: next year
    ],
)
def test_find_target_date(text: str, expected: date) -> None:
    assert find_target_date(text, WED) == expected


@pytest.mark.parametrize("text", ["", "can i go to the gym", "when can I wear makeup", "in the sun", "yesterday"])
def test_find_target_date_none(text: str) -> None:
    assert find_target_date(text, WED) is None


def test_weekend_on_a_weekend() -> None:
    sat, sun = date(2026, 11, 28), date(2026, 11, 29)
    assert find_target_date("this weekend", sat) == sat
    assert find_target_date("this weekend", sun) == sun


@pytest.mark.parametrize(
    "text, treated, target",
    [
        ("I had it monday, can I work out saturday?", ago(2), date(2026, 11, 28)),
        ("had it done 3 days ago can i go to the gym tomorrow", ago(3), WED + timedelta(days=1)),
        ("can i wear makeup on monday", None, date(2026, 11, 30)),
        ("I had it yesterday", ago(1), None),
        ("can I go back to the gym on saturday", None, date(2026, 11, 28)),
        ("how long will the redness last on friday", None, date(2026, 11, 27)),
        ("got microneedled on saturday, what now", ago(4), WED),  # "now" is today
        ("can I work out today", None, WED),
        ("when can I use retinol", None, None),
    ],
)
def test_extract_dates(text: str, treated: date | None, target: date | None) -> None:
    assert extract_dates(text, WED) == (treated, target)


def test_mentions_treatment_date() -> None:
    assert mentions_treatment_date("I had it done monday")
    assert mentions_treatment_date("3 days ago")
    assert mentions_treatment_date("i'm on day 4")
    assert not mentions_treatment_date("can I work out on saturday")
    assert not mentions_treatment_date("how long do results last")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("can I wear makeup on day 5?", 5),
        ("is it ok to work out by day 3", 3),
        ("I'm on day 2, can I use retinol from day 7", 7),
        ("i'm on day 6", None),
        ("can I wear makeup", None),
    ],
)
def test_asked_day_number(text: str, expected: int | None) -> None:
    assert asked_day_number(text) == expected


def test_describe_target() -> None:
    assert describe_target(WED, WED) == "today"
    assert describe_target(WED + timedelta(days=1), WED) == "tomorrow"
    assert describe_target(date(2026, 11, 28), WED) == "Saturday"
    assert describe_target(date(2026, 12, 9), WED) == "Dec 9"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("can I work out today?", None),
        ("should I wear spf on saturday", None),
        ("is it ok to wear makeup tonight", None),
        ("can I get a facial on dec 1", None),
        ("I had it monday, can I work out?", ago(2)),
        ("it was monday", ago(2)),
        ("Monday I think?", ago(2)),
        ("monday?", ago(2)),
        ("today", WED),
        ("i'm on day 4, can i use retinol", ago(4)),
    ],
)
def test_a_question_about_a_day_is_not_a_treatment_date(text: str, expected: date | None) -> None:
    """The API reads the message after "when was your treatment?" with this function."""
    assert parse_treatment_date(text, WED) == expected


# ------------------------------------------------------------------ Spanish (issue #18)
@pytest.mark.parametrize(
    "text, expected",
    [
        ("el lunes", ago(2)),
        ("me lo hice el lunes", ago(2)),
        ("el lunes pasado", ago(2)),
        ("hace 3 días", ago(3)),
        ("hace tres dias", ago(3)),
        ("hace un par de dias", ago(2)),
        ("hace una semana", ago(7)),
        ("antier", ago(2)),
        ("anteayer", ago(2)),
        ("ayer", ago(1)),
        ("hoy", WED),
        ("el 20 de noviembre", date(2026, 11, 20)),
        ("20 de nov", date(2026, 11, 20)),
        ("fue el 23", date(2026, 11, 23)),
        ("el 3 de diciembre", date(2025, 12, 3)),  # a past date: last year's
    ],
)
def test_spanish_treatment_dates(text: str, expected: date) -> None:
    assert parse_treatment_date(text, WED) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("puedo usar maquillaje mañana?", ago(-1)),
        ("mñn puedo ir al gym?", ago(-1)),
        ("pasado mañana", ago(-2)),
        ("el sábado", date(2026, 11, 28)),
        ("el proximo lunes", date(2026, 11, 30)),
        ("el lunes que viene", date(2026, 11, 30)),
        ("esta noche", WED),
        ("este fin de semana", date(2026, 11, 28)),
        ("en 2 dias", ago(-2)),
        ("el 30 de noviembre", date(2026, 11, 30)),
    ],
)
def test_spanish_days_asked_about(text: str, expected: date) -> None:
    assert find_target_date(text, WED) == expected


def test_spanish_both_at_once_and_recovery_days() -> None:
    assert extract_dates("me lo hice el lunes, puedo hacer ejercicio el sábado?", WED) == (MON, date(2026, 11, 28))
    assert mentions_treatment_date("hace 2 dias me lo hicieron")
    assert asked_day_number("puedo usar maquillaje el día 5?") == 5
    assert asked_day_number("estoy en el dia 4") is None  # stated, not asked
    # English words that look Spanish are left alone
    assert parse_treatment_date("once a day", WED) is None and find_target_date("I work out once a week", WED) is None
    assert describe_target(date(2026, 11, 28), WED, "es") == "sábado"
    assert describe_target(date(2026, 12, 20), WED, "es") == "20 de diciembre"
    assert describe_target(date(2026, 12, 20), WED) == "Dec 20"
