"""The tunable thresholds of the collection rules, and how they reach the phone.

Every number in DESIGN.md's "Domain rules" table lives here with its default,
so an operator can change it with an environment variable and the phone learns
it from the ``rules`` block of each pull (``RulesConfig.to_wire``).

Environment overrides: ``FIELDVISIT_RULES_<FIELD NAME IN CAPITALS>``, e.g.::

    FIELDVISIT_RULES_GEOFENCE_M=150
    FIELDVISIT_RULES_CONTACT_HOURS=08:00-19:00
    FIELDVISIT_RULES_PREFERRED_WINDOWS=09:30-11:30,14:00-16:00
    FIELDVISIT_RULES_DETOUR_FACTOR=1.4
    FIELDVISIT_RULES_RECOVERY_CURVE=0:0.95,90:0.7,365:0.25
    FIELDVISIT_RULES_DAY_PART_BOUNDS=12:00-17:00
    FIELDVISIT_RULES_ARRIVED_LATE_GRACE_MINUTES=10
    FIELDVISIT_RULES_ATTEMPTS_PER=account
    FIELDVISIT_RULES_DEFAULT_JURISDICTION=TW

Jurisdictions (``server/rules/jurisdictions.py``; defaults and sources in
docs/rules.md, "Jurisdictions") are configured the same way::

    FIELDVISIT_RULES_JURISDICTIONS=US,IN,CN,JP,TW        # which ones (default: all shipped)
    FIELDVISIT_RULES_JURISDICTION_US_CONTACT_HOURS=08:00-21:00
    FIELDVISIT_RULES_JURISDICTION_US_ATTEMPT_MAX=7
    FIELDVISIT_RULES_JURISDICTION_US_ATTEMPT_WINDOW_DAYS=7
    FIELDVISIT_RULES_JURISDICTION_US_ATTEMPTS_PER=person  # or account
    FIELDVISIT_RULES_JURISDICTION_SG_CONTACT_HOURS=09:00-21:00  # adds SG

A value that does not parse or breaks an invariant, and an unknown
``FIELDVISIT_RULES_*`` name (most likely a typo that would otherwise be
silently ignored), raise ``ValueError`` naming the variable.

Broken-promise boost (why 1.25, capped at 2.0): a broken promise tells us the
debtor is willing to talk but not to pay, which is exactly when a prompt visit
helps most, so each one raises the account's priority by 25 %.  The boost
compounds (1.25, 1.56, 1.95) and is capped at ×2 so that a small debt with many
broken promises cannot outrank a much larger one forever; by the third broken
promise escalation is suggested anyway (see ``escalation.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .clock import parse_hhmm
from .jurisdictions import (
    ATTEMPT_COUNTING,
    DEFAULT_JURISDICTIONS,
    PER_ACCOUNT,
    SETTINGS,
    Jurisdiction,
    configured,
    is_country_code,
)

ENV_PREFIX = "FIELDVISIT_RULES_"

# Recovery chance by days past due, from a published commercial-debt study
# (DESIGN.md): linear between points, held at the last value beyond it.
DEFAULT_RECOVERY_CURVE: tuple[tuple[int, float], ...] = (
    (0, 0.949),
    (30, 0.899),
    (60, 0.813),
    (90, 0.696),
    (180, 0.521),
    (270, 0.391),
    (365, 0.228),
    (730, 0.093),
)


@dataclass(frozen=True)
class RulesConfig:
    """Thresholds of the rules; validated on construction, immutable after."""

    # Visits allowed only in this local window, both ends included ("HH:MM").
    contact_hours: tuple[str, str] = ("08:00", "21:00")
    # Seed tip 9: people are at their desks then; the planner aims for these.
    preferred_windows: tuple[tuple[str, str], ...] = (("09:30", "11:30"), ("14:00", "16:00"))
    # Seed tip 10: at most this many attempts per account in the rolling window.
    attempt_max: int = 5
    attempt_window_days: int = 7
    # Check-in farther than this from the account's position is flagged.
    geofence_m: int = 200
    # Seed tip 3: arrive before the customer.
    early_margin_minutes: int = 15
    # ``arrived_late`` only beyond this: a flag on every visit a minute late
    # is a flag nobody reads (docs/rules.md, "late arrival").
    arrived_late_grace_minutes: int = 10
    # A planned visit whose appointment passed this long ago, with no
    # check-in, shows as missed on the phone and is offered a new time.
    missed_after_minutes: int = 30
    # Roads are longer than the geodesic; city traffic speed for a scooter/car.
    detour_factor: float = 1.3
    travel_speed_kmh: float = 25.0
    # Time the planner reserves on site for a flexible (unscheduled) visit.
    visit_minutes: int = 30
    recovery_curve: tuple[tuple[int, float], ...] = DEFAULT_RECOVERY_CURVE
    broken_promise_boost: float = 1.25
    broken_promise_boost_cap: float = 2.0
    escalation_broken_promises: int = 3
    escalation_visits_without_payment: int = 6
    escalation_days_past_due: int = 360
    # Redirects in a row after which the account goes to the supervisor.
    redirect_limit: int = 2
    # Parts of the day: morning before the first, evening after the second.
    day_part_bounds: tuple[str, str] = ("12:00", "17:00")
    # How attempts count against the limit: all of the account's, or only
    # those on the same person of that debt (docs/rules.md, "Attempts").
    attempts_per: str = PER_ACCOUNT
    # The jurisdiction a new account gets when its writer names none.
    default_jurisdiction: str = "TW"
    # Each place's own contact hours and attempt limit (docs/rules.md,
    # "Jurisdictions"); an account in none of them follows the values above.
    jurisdictions: tuple[Jurisdiction, ...] = DEFAULT_JURISDICTIONS

    def __post_init__(self) -> None:
        # Accept lists (e.g. from JSON) but store tuples, so the config stays hashable.
        object.__setattr__(self, "contact_hours", tuple(self.contact_hours))
        object.__setattr__(
            self, "preferred_windows", tuple(tuple(w) for w in self.preferred_windows)
        )
        object.__setattr__(
            self, "recovery_curve", tuple((int(d), float(c)) for d, c in self.recovery_curve)
        )
        object.__setattr__(self, "day_part_bounds", tuple(self.day_part_bounds))
        object.__setattr__(self, "jurisdictions",
                           tuple(sorted(self.jurisdictions, key=lambda j: j.code)))
        _validate(self)
        # The rules of each jurisdiction, made once (``for_jurisdiction``).
        object.__setattr__(self, "_resolved", {})

    # -- parsed views -------------------------------------------------------

    @property
    def contact_start(self):
        return parse_hhmm(self.contact_hours[0])

    @property
    def contact_end(self):
        return parse_hhmm(self.contact_hours[1])

    @property
    def preferred_window_times(self):
        return tuple((parse_hhmm(a), parse_hhmm(b)) for a, b in self.preferred_windows)

    @property
    def afternoon_start(self):
        return parse_hhmm(self.day_part_bounds[0])

    @property
    def evening_after(self):
        return parse_hhmm(self.day_part_bounds[1])

    # -- jurisdictions ---------------------------------------------------------

    def jurisdiction(self, code: str | None) -> Jurisdiction | None:
        return next((j for j in self.jurisdictions if j.code == code), None)

    def for_jurisdiction(self, code: str | None) -> RulesConfig:
        """The rules of an account in ``code``: the jurisdiction's own values
        over the top-level ones; the top-level rules themselves when no such
        jurisdiction is configured (or ``code`` is None)."""
        resolved = self._resolved.get(code)
        if resolved is None:
            resolved = self
            own = self.jurisdiction(code)
            if own is not None:
                changes = {name: getattr(own, name) for name in _JURISDICTION_FIELDS
                           if getattr(own, name) is not None}
                resolved = replace(self, **changes) if changes else self
            self._resolved[code] = resolved
        return resolved

    def for_account(self, account: Any) -> RulesConfig:
        """The rules of ``account`` (a record or a mapping with ``jurisdiction``)."""
        if isinstance(account, Mapping):
            return self.for_jurisdiction(account.get("jurisdiction"))
        return self.for_jurisdiction(getattr(account, "jurisdiction", None))

    # -- construction from the environment -----------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RulesConfig:
        """Defaults overridden by ``FIELDVISIT_RULES_*`` variables in ``environ``."""
        known = {f.name.upper(): f.name for f in fields(cls)}
        overrides: dict[str, Any] = {}
        keep: tuple[str, ...] | None = None
        settings: dict[str, dict[str, Any]] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            suffix = key[len(ENV_PREFIX):]
            if suffix.startswith(_JURISDICTION_PREFIX):
                try:
                    code, name, value = _parse_jurisdiction_setting(
                        suffix[len(_JURISDICTION_PREFIX):], raw.strip())
                except ValueError as exc:
                    raise ValueError(f"{key}={raw!r}: {exc}") from None
                settings.setdefault(code, {})[name] = value
                continue
            if suffix == "JURISDICTIONS":
                try:
                    keep = _parse_codes(raw.strip())
                except ValueError as exc:
                    raise ValueError(f"{key}={raw!r}: {exc}") from None
                continue
            name = known.get(suffix)
            if name is None:
                raise ValueError(
                    f"{key}: unknown rules setting; known: "
                    + ", ".join(ENV_PREFIX + k for k in sorted(known))
                )
            try:
                overrides[name] = _PARSERS[name](raw.strip())
            except ValueError as exc:
                raise ValueError(f"{key}={raw!r}: {exc}") from None
        try:
            if keep is not None or settings:
                overrides["jurisdictions"] = configured(DEFAULT_JURISDICTIONS, keep, settings)
            return cls(**overrides)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}*: {exc}") from None

    # -- the pull's "rules" block --------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """The ``rules`` block of a pull (docs/protocol.md), plus offline extras.

        The first five keys are the protocol's and keep their meaning; the
        rest let the phone plan, warn and rank accounts without the server.
        """
        return {
            **self._place_rules_wire(),
            "preferred_windows": [list(w) for w in self.preferred_windows],
            "geofence_m": self.geofence_m,
            "early_margin_minutes": self.early_margin_minutes,
            "arrived_late_grace_minutes": self.arrived_late_grace_minutes,
            "missed_after_minutes": self.missed_after_minutes,
            "travel": {"detour_factor": self.detour_factor, "speed_kmh": self.travel_speed_kmh},
            "visit_minutes": self.visit_minutes,
            # morning: before afternoon_from; evening: strictly after evening_after.
            "day_parts": {
                "afternoon_from": self.day_part_bounds[0],
                "evening_after": self.day_part_bounds[1],
            },
            "recovery_curve": [[d, c] for d, c in self.recovery_curve],
            "broken_promise_boost": {
                "factor": self.broken_promise_boost,
                "cap": self.broken_promise_boost_cap,
            },
            "escalation": {
                "broken_promises": self.escalation_broken_promises,
                "visits_without_payment": self.escalation_visits_without_payment,
                "days_past_due": self.escalation_days_past_due,
            },
            "redirect_limit": self.redirect_limit,
            # docs/protocol.md 1.1 "Account contact restrictions": an account's
            # rules are its jurisdiction's entry here, else the keys above.
            "default_jurisdiction": self.default_jurisdiction,
            "jurisdictions": {j.code: self.for_jurisdiction(j.code)._place_rules_wire()
                              for j in self.jurisdictions},
        }

    def _place_rules_wire(self) -> dict[str, Any]:
        """The rules that differ by jurisdiction, as the pull carries them."""
        return {
            "contact_hours": {"start": self.contact_hours[0], "end": self.contact_hours[1]},
            "attempt_limit": {"max": self.attempt_max, "window_days": self.attempt_window_days},
            "attempts_per": self.attempts_per,
        }


# The RulesConfig fields a jurisdiction may set for its accounts.
_JURISDICTION_FIELDS = ("contact_hours", "attempt_max", "attempt_window_days", "attempts_per")
_JURISDICTION_PREFIX = "JURISDICTION_"


# -- parsing of environment strings ----------------------------------------


def _parse_range(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split("-")]
    if len(parts) != 2:
        raise ValueError("expected 'HH:MM-HH:MM'")
    return parts[0], parts[1]


def _parse_windows(text: str) -> tuple[tuple[str, str], ...]:
    items = [p for p in (s.strip() for s in text.split(",")) if p]
    if not items:
        raise ValueError("expected 'HH:MM-HH:MM[,HH:MM-HH:MM...]'")
    return tuple(_parse_range(item) for item in items)


def _parse_curve(text: str) -> tuple[tuple[int, float], ...]:
    points = []
    for item in (s.strip() for s in text.split(",")):
        day, sep, chance = item.partition(":")
        if not sep:
            raise ValueError("expected 'DAYS:CHANCE[,DAYS:CHANCE...]', e.g. '0:0.95,365:0.23'")
        points.append((_parse_int(day), _parse_float(chance)))
    return tuple(points)


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _parse_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value
    return parse


def _parse_code(text: str) -> str:
    code = text.strip().upper()
    if not is_country_code(code):
        raise ValueError(f"expected an ISO 3166-1 alpha-2 country code such as TW, got {text!r}")
    return code


def _parse_codes(text: str) -> tuple[str, ...]:
    codes = [c for c in (s.strip() for s in text.split(",")) if c]
    if not codes:
        raise ValueError("expected country codes, e.g. 'US,IN,CN,JP,TW'")
    return tuple(_parse_code(c) for c in codes)


def _parse_jurisdiction_setting(rest: str, raw: str) -> tuple[str, str, Any]:
    """``US_ATTEMPT_MAX`` and its value → ("US", "attempt_max", 7)."""
    code, sep, setting = rest.partition("_")
    if not sep or setting not in SETTINGS:
        raise ValueError("expected FIELDVISIT_RULES_JURISDICTION_<CODE>_<SETTING> with a "
                         "setting of " + ", ".join(SETTINGS))
    name, code = setting.lower(), _parse_code(code)
    value = _PARSERS[name](raw)
    Jurisdiction(code, **{name: value})  # checked here, so the error names its variable
    return code, name, value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "contact_hours": _parse_range,
    "preferred_windows": _parse_windows,
    "attempt_max": _parse_int,
    "attempt_window_days": _parse_int,
    "geofence_m": _parse_int,
    "early_margin_minutes": _parse_int,
    "arrived_late_grace_minutes": _parse_int,
    "missed_after_minutes": _parse_int,
    "detour_factor": _parse_float,
    "travel_speed_kmh": _parse_float,
    "visit_minutes": _parse_int,
    "recovery_curve": _parse_curve,
    "broken_promise_boost": _parse_float,
    "broken_promise_boost_cap": _parse_float,
    "escalation_broken_promises": _parse_int,
    "escalation_visits_without_payment": _parse_int,
    "escalation_days_past_due": _parse_int,
    "redirect_limit": _parse_int,
    "day_part_bounds": _parse_range,
    "attempts_per": _parse_choice(ATTEMPT_COUNTING),
    "default_jurisdiction": _parse_code,
}


# -- invariants ------------------------------------------------------------


def _ordered_times(name: str, pair: tuple[str, ...]) -> None:
    if len(pair) != 2:
        raise ValueError(f"{name}: expected a (start, end) pair, got {pair!r}")
    start, end = parse_hhmm(pair[0]), parse_hhmm(pair[1])
    if not start < end:
        raise ValueError(f"{name}: start {pair[0]} must be before end {pair[1]}")


def _at_least(cfg: RulesConfig, name: str, minimum: float) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if not value >= minimum:  # also rejects NaN
        raise ValueError(f"{name}: must be at least {minimum}, got {value!r}")


def _validate(cfg: RulesConfig) -> None:
    _ordered_times("contact_hours", cfg.contact_hours)
    for window in cfg.preferred_windows:
        _ordered_times("preferred_windows", window)
    _ordered_times("day_part_bounds", cfg.day_part_bounds)
    for name in ("attempt_max", "attempt_window_days", "geofence_m", "redirect_limit",
                 "escalation_broken_promises", "escalation_visits_without_payment",
                 "escalation_days_past_due"):
        _at_least(cfg, name, 1)
    for name in ("early_margin_minutes", "visit_minutes", "arrived_late_grace_minutes",
                 "missed_after_minutes"):
        _at_least(cfg, name, 0)
    # A road is never shorter than the straight line.
    _at_least(cfg, "detour_factor", 1.0)
    if not cfg.travel_speed_kmh > 0:
        raise ValueError(f"travel_speed_kmh: must be positive, got {cfg.travel_speed_kmh!r}")
    _at_least(cfg, "broken_promise_boost", 1.0)
    _at_least(cfg, "broken_promise_boost_cap", 1.0)
    _validate_curve(cfg.recovery_curve)
    if cfg.attempts_per not in ATTEMPT_COUNTING:
        raise ValueError(f"attempts_per: must be one of {', '.join(ATTEMPT_COUNTING)}")
    if not is_country_code(cfg.default_jurisdiction):
        raise ValueError(f"default_jurisdiction: {cfg.default_jurisdiction!r} is not an "
                         "ISO 3166-1 alpha-2 country code")
    codes = [j.code for j in cfg.jurisdictions]
    if len(set(codes)) != len(codes):
        raise ValueError("jurisdictions: each code may be configured once")


def _validate_curve(curve: tuple[tuple[int, float], ...]) -> None:
    if not curve:
        raise ValueError("recovery_curve: needs at least one point")
    if curve[0][0] != 0:
        raise ValueError("recovery_curve: the first point must be at day 0")
    for (d1, c1), (d2, c2) in zip(curve, curve[1:], strict=False):
        if not d2 > d1:
            raise ValueError(f"recovery_curve: days must increase ({d1} then {d2})")
        # Older debts are never easier to collect; priority relies on it.
        if c2 > c1:
            raise ValueError(f"recovery_curve: chance must not rise with age ({c1} then {c2})")
    for _, chance in curve:
        if not 0.0 <= chance <= 1.0:
            raise ValueError(f"recovery_curve: chance {chance!r} is not between 0 and 1")


DEFAULT_CONFIG = RulesConfig()
