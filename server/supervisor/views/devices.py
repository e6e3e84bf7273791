"""Devices: each collector's phones as they last reported (docs/protocol.md 1.1
"Device clock and device report"), those that need someone's attention
first in the reader's eye (``server/services/devices.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template

from ...extensions import db
from ...models import utcnow
from ...services.devices import Device, devices
from .. import device_words, supervisor


@dataclass(frozen=True)
class DeviceRow:
    device: Device
    reasons: list[str]  # in words

    @property
    def client(self):
        return self.device.client

    @property
    def user(self):
        return self.device.user


def current_app_version() -> str | None:
    """The version of the collector app this server ships now (server/shell.py)."""
    cache = current_app.extensions.get("fieldvisit_shell")
    return cache.get().version if cache is not None else None


def device_rows(now=None) -> list[DeviceRow]:
    now = now or utcnow()
    version = current_app_version()
    limit_s = current_app.config["CLOCK_OFF_MINUTES"] * 60
    rows = []
    for device in devices(db.session):
        codes = device.reasons(now, version, limit_s)
        rows.append(DeviceRow(device, [device_words.reason(c, device, now, limit_s)
                                       for c in codes]))
    return rows


@supervisor.get("/devices")
def devices_page():
    now = utcnow()
    rows = device_rows(now)
    return render_template("supervisor/devices.html", rows=rows, now=now,
                           current_version=current_app_version(),
                           attention=[r for r in rows if r.reasons])


@supervisor.app_template_global()
def device_clock_words(seconds):
    return device_words.clock_offset(seconds)


@supervisor.app_template_global()
def device_ago(value, now):
    return device_words.ago(value, now)
