"""RulesConfig: defaults, environment overrides, validation, the wire block."""

import json

import pytest

from server.rules.config import RulesConfig


def test_defaults_match_design():
    cfg = RulesConfig()
    assert cfg.contact_hours == ("08:00", "21:00")
    assert cfg.preferred_windows == (("09:30", "11:30"), ("14:00", "16:00"))
    assert (cfg.attempt_max, cfg.attempt_window_days) == (5, 7)
    assert (cfg.geofence_m, cfg.early_margin_minutes) == (200, 15)
    assert (cfg.detour_factor, cfg.travel_speed_kmh) == (1.3, 25.0)
    assert cfg.recovery_curve[0] == (0, 0.949) and cfg.recovery_curve[-1] == (730, 0.093)
    assert (cfg.escalation_broken_promises, cfg.escalation_visits_without_payment,
            cfg.escalation_days_past_due) == (3, 6, 360)
    assert cfg.redirect_limit == 2
    assert (cfg.arrived_late_grace_minutes, cfg.missed_after_minutes) == (10, 30)


def test_to_wire_contains_exactly_the_protocol_block():
    wire = RulesConfig().to_wire()
    protocol = {
        "contact_hours": {"start": "08:00", "end": "21:00"},
        "preferred_windows": [["09:30", "11:30"], ["14:00", "16:00"]],
        "attempt_limit": {"max": 5, "window_days": 7},
        "geofence_m": 200,
        "early_margin_minutes": 15,
    }
    assert {k: wire[k] for k in protocol} == protocol
    assert wire["travel"] == {"detour_factor": 1.3, "speed_kmh": 25.0}
    assert wire["day_parts"] == {"afternoon_from": "12:00", "evening_after": "17:00"}
    assert (wire["arrived_late_grace_minutes"], wire["missed_after_minutes"]) == (10, 30)


def test_from_env_empty_gives_defaults_and_ignores_other_variables():
    assert RulesConfig.from_env({"PATH": "/bin", "FIELDVISIT_DB": "x"}) == RulesConfig()


def test_from_env_overrides():
    cfg = RulesConfig.from_env({
        "FIELDVISIT_RULES_GEOFENCE_M": "150",
        "FIELDVISIT_RULES_CONTACT_HOURS": "08:00-19:00",
        "FIELDVISIT_RULES_PREFERRED_WINDOWS": "10:00-11:00, 15:00-16:30",
        "FIELDVISIT_RULES_DETOUR_FACTOR": "1.4",
        "FIELDVISIT_RULES_ATTEMPT_MAX": "3",
        "FIELDVISIT_RULES_RECOVERY_CURVE": "0:0.9,100:0.5",
        "FIELDVISIT_RULES_DAY_PART_BOUNDS": "13:00-18:00",
    })
    assert cfg.geofence_m == 150
    assert cfg.contact_hours == ("08:00", "19:00")
    assert cfg.preferred_windows == (("10:00", "11:00"), ("15:00", "16:30"))
    assert cfg.detour_factor == 1.4 and cfg.attempt_max == 3
    assert cfg.recovery_curve == ((0, 0.9), (100, 0.5))
    assert cfg.to_wire()["contact_hours"] == {"start": "08:00", "end": "19:00"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GEOFENCE_M", "far", "FIELDVISIT_RULES_GEOFENCE_M"),
        ("GEOFENCE_M", "150.5", "whole number"),
        ("GEOFENCE_M", "0", "at least 1"),
        ("CONTACT_HOURS", "21:00-08:00", "before end"),
        ("CONTACT_HOURS", "8-19", "HH:MM"),
        ("CONTACT_HOURS", "08:00", "HH:MM-HH:MM"),
        ("CONTACT_HOURS", "08:00-24:00", "HH:MM"),
        ("PREFERRED_WINDOWS", "", "HH:MM-HH:MM"),
        ("DETOUR_FACTOR", "0.8", "at least 1.0"),
        ("DETOUR_FACTOR", "nan", "finite"),
        ("TRAVEL_SPEED_KMH", "0", "positive"),
        ("RECOVERY_CURVE", "0:0.5,30:0.7", "must not rise"),
        ("RECOVERY_CURVE", "10:0.5", "day 0"),
        ("RECOVERY_CURVE", "0:1.5", "between 0 and 1"),
        ("RECOVERY_CURVE", "0-0.5", "DAYS:CHANCE"),
        ("SPEED", "30", "unknown rules setting"),
        ("ARRIVED_LATE_GRACE_MINUTES", "-1", "at least 0"),
        ("ARRIVED_LATE_GRACE_MINUTES", "ten", "whole number"),
        ("MISSED_AFTER_MINUTES", "-5", "at least 0"),
    ],
)
def test_from_env_rejects_bad_values_with_a_clear_message(name, value, message):
    with pytest.raises(ValueError, match=message):
        RulesConfig.from_env({f"FIELDVISIT_RULES_{name}": value})


def test_config_is_immutable_and_hashable():
    cfg = RulesConfig(preferred_windows=[["09:00", "10:00"]])
    assert cfg.preferred_windows == (("09:00", "10:00"),)
    hash(cfg)
    with pytest.raises(AttributeError):
        cfg.geofence_m = 5  # type: ignore[misc]


def test_grace_settings_from_the_environment_reach_the_wire():
    cfg = RulesConfig.from_env({"FIELDVISIT_RULES_ARRIVED_LATE_GRACE_MINUTES": "5",
                                "FIELDVISIT_RULES_MISSED_AFTER_MINUTES": "45"})
    assert cfg.to_wire()["arrived_late_grace_minutes"] == 5
    assert cfg.to_wire()["missed_after_minutes"] == 45


def test_to_wire_is_json():
    wire = RulesConfig.from_env({"FIELDVISIT_RULES_GEOFENCE_M": "150"}).to_wire()
    assert json.loads(json.dumps(wire)) == wire
    assert wire["geofence_m"] == 150
