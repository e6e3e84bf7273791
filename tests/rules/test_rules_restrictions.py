"""Do-not-visit windows at their edges, their validation, and the
jurisdictions' configuration (docs/rules.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from server.entities.restrictions import MAX_WINDOWS, normalise_windows
from server.rules.config import RulesConfig
from server.rules.flags import visit_flags
from server.rules.planning import stop_warnings

# The funeral: not from 2026-12-10 09:00 until the 13th at midnight, Taipei.
WINDOW = {"from": "2026-12-10T09:00:00+08:00", "to": "2026-12-13T00:00:00+08:00",
          "reason": "Funeral in the family"}
ACCOUNT = {"timezone": "Asia/Taipei", "jurisdiction": "TW", "do_not_visit": [WINDOW]}
START = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
END = datetime(2026, 12, 12, 16, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(("moment", "inside"), [
    (START - MINUTE, False),
    (START, True),           # from is included
    (START + MINUTE, True),
    (END - MINUTE, True),
    (END - timedelta(microseconds=1), True),
    (END, False),            # to is not: "until after the 12th" allows the 13th at midnight
    (END + MINUTE, False),
])
def test_visit_flag_at_the_window_edges(moment, inside):
    flags = visit_flags({"arrived_at": moment}, ACCOUNT)
    assert ("inside_do_not_visit" in flags) is inside


@pytest.mark.parametrize(("moment", "warned"), [(START - MINUTE, False), (START, True),
                                                (END - MINUTE, True), (END, False)])
def test_plan_warning_at_the_window_edges(moment, warned):
    stop = {"visit_id": "v", "timezone": "Asia/Taipei", "lat": 25.0, "lon": 121.5,
            "do_not_visit": [WINDOW]}
    assert ("do_not_visit" in stop_warnings(stop, moment)) is warned


def test_a_visit_without_arrival_or_windows_is_never_flagged():
    assert "inside_do_not_visit" not in visit_flags({"scheduled_at": START}, ACCOUNT)
    assert visit_flags({"arrived_at": START}, {"timezone": "Asia/Taipei"}) == []


def test_windows_are_stored_in_utc_sorted_and_once():
    later = {"from": "2027-01-02T00:00:00Z", "to": "2027-01-03T00:00:00+00:00", "reason": " Wedding "}
    same_as_window = {"from": "2026-12-10T01:00:00+00:00", "to": "2026-12-12T16:00:00Z",
                      "reason": "Funeral in the family"}
    assert normalise_windows([later, WINDOW, same_as_window]) == [
        {"from": "2026-12-10T01:00:00+00:00", "to": "2026-12-12T16:00:00+00:00",
         "reason": "Funeral in the family"},
        {"from": "2027-01-02T00:00:00+00:00", "to": "2027-01-03T00:00:00+00:00", "reason": "Wedding"},
    ]
    assert normalise_windows([]) == []


def bad(**changes):
    return [{**WINDOW, **changes}]


@pytest.mark.parametrize(("value", "message"), [
    ("not a list", "Not a valid list."),
    (["x"], "Period 1: expected an object with from, to and reason."),
    (bad(until="x"), "Period 1: unknown key until; a period has from, to and reason."),
    (bad(to="2026-12-13T00:00:00"), "Period 1: to must be an RFC 3339 time with an offset."),
    (bad(**{"from": "tomorrow"}), "Period 1: from must be an RFC 3339 time with an offset."),
    (bad(to=WINDOW["from"]), "Period 1: from must be before to."),
    (bad(to="2026-12-09T00:00:00+08:00"), "Period 1: from must be before to."),
    (bad(to="3001-01-01T00:00:00+00:00"), "Period 1: the year must be 1900 to 2999."),
    (bad(reason=""), "Period 1: the reason needs at least one letter or digit."),
    (bad(reason=" \u200b\u00a0!! "), "Period 1: the reason needs at least one letter or digit."),
    (bad(reason=None), "Period 1: the reason needs at least one letter or digit."),
    (bad(reason="x" * 201), "Period 1: the reason is longer than 200 characters."),
    ([WINDOW] * (MAX_WINDOWS + 1), f"At most {MAX_WINDOWS} do-not-visit periods per account."),
])
def test_bad_windows_are_refused_with_a_reason(value, message):
    with pytest.raises(ValidationError) as refused:
        normalise_windows(value)
    assert message in refused.value.messages


def test_every_bad_window_is_reported_with_its_number():
    with pytest.raises(ValidationError) as refused:
        normalise_windows([WINDOW, {"from": "x", "to": "y", "reason": "z"}, "w"])
    assert refused.value.messages == [
        "Period 2: from must be an RFC 3339 time with an offset.",
        "Period 2: to must be an RFC 3339 time with an offset.",
        "Period 3: expected an object with from, to and reason."]


def test_a_two_character_chinese_reason_is_enough():
    assert normalise_windows(bad(reason="喪禮"))[0]["reason"] == "喪禮"


# -- jurisdictions in the configuration --------------------------------------------


def test_shipped_jurisdictions_and_their_wire_form():
    wire = RulesConfig().to_wire()
    assert wire["default_jurisdiction"] == "TW"
    assert sorted(wire["jurisdictions"]) == ["CN", "IN", "JP", "TW", "US"]
    hours = {code: (j["contact_hours"]["start"], j["contact_hours"]["end"])
             for code, j in wire["jurisdictions"].items()}
    assert hours == {"US": ("08:00", "21:00"), "IN": ("08:00", "19:00"), "CN": ("08:00", "22:00"),
                     "JP": ("08:00", "21:00"), "TW": ("08:00", "21:00")}
    assert wire["jurisdictions"]["US"]["attempt_limit"] == {"max": 7, "window_days": 7}
    assert wire["jurisdictions"]["US"]["attempts_per"] == "person"
    assert wire["jurisdictions"]["TW"]["attempt_limit"] == {"max": 5, "window_days": 7}
    assert wire["jurisdictions"]["TW"]["attempts_per"] == "account"


def test_jurisdictions_follow_the_top_level_where_they_set_nothing():
    cfg = RulesConfig.from_env({"FIELDVISIT_RULES_CONTACT_HOURS": "09:00-18:00",
                                "FIELDVISIT_RULES_ATTEMPT_MAX": "4"})
    wire = cfg.to_wire()["jurisdictions"]
    assert wire["TW"]["contact_hours"] == {"start": "09:00", "end": "18:00"}
    assert wire["IN"]["attempt_limit"]["max"] == 4
    # The law's own values are kept.
    assert wire["US"]["contact_hours"] == {"start": "08:00", "end": "21:00"}
    assert wire["US"]["attempt_limit"]["max"] == 7


def test_every_jurisdiction_value_can_be_overridden_and_new_ones_added():
    cfg = RulesConfig.from_env({
        "FIELDVISIT_RULES_JURISDICTION_US_CONTACT_HOURS": "09:00-20:00",
        "FIELDVISIT_RULES_JURISDICTION_US_ATTEMPT_MAX": "6",
        "FIELDVISIT_RULES_JURISDICTION_US_ATTEMPT_WINDOW_DAYS": "5",
        "FIELDVISIT_RULES_JURISDICTION_US_ATTEMPTS_PER": "account",
        "FIELDVISIT_RULES_JURISDICTION_SG_CONTACT_HOURS": "09:00-21:00",
        "FIELDVISIT_RULES_DEFAULT_JURISDICTION": "sg",
    })
    wire = cfg.to_wire()
    assert wire["jurisdictions"]["US"] == {
        "contact_hours": {"start": "09:00", "end": "20:00"},
        "attempt_limit": {"max": 6, "window_days": 5}, "attempts_per": "account"}
    assert wire["jurisdictions"]["SG"]["contact_hours"] == {"start": "09:00", "end": "21:00"}
    assert wire["default_jurisdiction"] == "SG"


def test_the_list_of_jurisdictions_can_be_chosen():
    cfg = RulesConfig.from_env({"FIELDVISIT_RULES_JURISDICTIONS": "us, tw, KR"})
    assert sorted(cfg.to_wire()["jurisdictions"]) == ["KR", "TW", "US"]
    assert cfg.for_jurisdiction("IN") is cfg  # dropped: the top-level rules


@pytest.mark.parametrize(("name", "value", "message"), [
    ("JURISDICTION_XX_ATTEMPT_MAX", "6", "ISO 3166-1 alpha-2"),
    ("JURISDICTION_US_SPEED", "6", "a setting of CONTACT_HOURS"),
    ("JURISDICTION_US", "6", "JURISDICTION_<CODE>_<SETTING>"),
    ("JURISDICTION_US_CONTACT_HOURS", "21:00-08:00", "must be before end"),
    ("JURISDICTION_US_ATTEMPT_MAX", "0", "at least 1"),
    ("JURISDICTION_US_ATTEMPT_MAX", "seven", "whole number"),
    ("JURISDICTION_US_ATTEMPTS_PER", "debt", "one of account, person"),
    ("JURISDICTIONS", "US,EU", "ISO 3166-1 alpha-2"),
    ("JURISDICTIONS", " , ", "country codes"),
    ("DEFAULT_JURISDICTION", "Taiwan", "ISO 3166-1 alpha-2"),
    ("ATTEMPTS_PER", "debt", "one of account, person"),
])
def test_bad_jurisdiction_settings_stop_the_server_naming_the_variable(name, value, message):
    with pytest.raises(ValueError, match=message) as refused:
        RulesConfig.from_env({f"FIELDVISIT_RULES_{name}": value})
    assert f"FIELDVISIT_RULES_{name}" in str(refused.value)
