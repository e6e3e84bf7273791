"""Turning an account's address into coordinates (for imports without lat/lon).

Geocoding is optional: a site may have no network or no wish to send debtor
addresses to a third party (prohibition 3: don't spread the debtor's data), so
provider ``None``/``"off"`` disables it.  The only provider is Nominatim
(OpenStreetMap); ``domain`` and ``scheme`` point it at a self-hosted instance
(or, in tests, a loopback HTTP server).  The public instance allows at most
one request per second and needs an identifying ``user_agent``; rate limiting
is the caller's job (e.g. ``geopy.extra.rate_limiter.RateLimiter``).

``geocode_address`` never raises for network or service errors: it returns
None and the caller reports "could not geocode" for that row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder

log = logging.getLogger(__name__)

DISABLED_PROVIDERS = frozenset({"", "off", "none", "disabled"})
PROVIDERS = ("nominatim",)


def make_geocoder(
    provider: str | None,
    domain: str | None = None,
    scheme: str = "https",
    user_agent: str = "fieldvisit",
    timeout: float = 5,
    proxies: Mapping[str, str] | None = None,
) -> Geocoder | None:
    """A geopy geocoder for ``provider``, or None when geocoding is off.

    ``proxies`` None uses the system proxies; ``{}`` disables them.
    Unknown provider or scheme: ValueError (a configuration mistake).
    """
    name = (provider or "").strip().lower()
    if name in DISABLED_PROVIDERS:
        return None
    if name not in PROVIDERS:
        raise ValueError(f"unknown geocoding provider {provider!r}; use one of {PROVIDERS} or 'off'")
    if scheme not in ("http", "https"):
        raise ValueError(f"geocoding scheme must be 'http' or 'https', got {scheme!r}")
    if not user_agent:
        raise ValueError("geocoding needs a user_agent that identifies this installation")
    options = {"scheme": scheme, "user_agent": user_agent, "timeout": timeout}
    if domain:
        options["domain"] = domain
    if proxies is not None:
        options["proxies"] = dict(proxies)
    return Nominatim(**options)


def geocode_address(geocoder: Geocoder | None, address: str | None) -> tuple[float, float] | None:
    """(lat, lon) of the best match for ``address``, or None (off, blank, not found, error)."""
    if geocoder is None or not address or not address.strip():
        return None
    try:
        location = geocoder.geocode(address.strip(), exactly_one=True)
    except (GeopyError, OSError, ValueError) as exc:
        # The address itself is debtor data: log the failure, not the address.
        log.warning("geocoding failed: %s", type(exc).__name__)
        return None
    if location is None:
        return None
    return float(location.latitude), float(location.longitude)
