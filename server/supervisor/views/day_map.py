"""The dashboard's map of today's check-ins (``_day_map.html``): a helper
the dashboard template calls, so the dashboard view itself needs no
change. Leaflet is served by this server (``server/maps.py``); the tiles
come from ``FIELDVISIT_MAP_TILES_URL``, allowed by the pages' CSP."""

from __future__ import annotations

from flask import current_app

from ...extensions import db
from ...maps import LEAFLET_PREFIX
from .. import formatting, supervisor
from ..queries.day_map import day_checkins, map_points


@supervisor.app_context_processor
def day_map_helpers():
    def day_map():
        zone = formatting.display_zone()
        checkins = day_checkins(db.session, formatting.today(zone), zone)
        config = current_app.config
        return {
            "checkins": checkins,
            "points": map_points(checkins, formatting.fmt_time),
            "tiles": {"url": config["MAP_TILES_URL"], "attribution": config["MAP_ATTRIBUTION"],
                      "max_zoom": config["MAP_MAX_ZOOM"]},
            "leaflet_js": LEAFLET_PREFIX + "leaflet.js",
            "leaflet_css": LEAFLET_PREFIX + "leaflet.css",
            "geofence_m": config["RULES"].geofence_m,
        }

    return {"day_map": day_map}
