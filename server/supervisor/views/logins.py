"""Sign-ins: recent failed logins per user and address, and clearing them
(a user who forgot a password and is now made to wait, a collector behind
an office network a guesser shares)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for

from ...services.login_limits import LoginLimits, clear_failures, recent_failures
from .. import supervisor
from ..forms import ClearLoginFailuresForm


@supervisor.get("/sign-ins")
def sign_ins():
    limits = LoginLimits.from_config(current_app.config)
    return render_template("supervisor/sign_ins.html", groups=recent_failures(limits),
                           limits=limits, form=ClearLoginFailuresForm())


@supervisor.post("/sign-ins/clear")
def clear_sign_in_failures():
    form = ClearLoginFailuresForm()
    if form.validate_on_submit():
        cleared = clear_failures(form.username.data, form.address.data or None)
        flash(("Cleared {n} failed sign-ins of {user}. The next attempt is checked at once.",
               {"n": cleared, "user": form.username.data}), "ok")
    else:
        flash(("Nothing was cleared: reload the page and try again.", {}), "error")
    return redirect(url_for("supervisor.sign_ins"))
