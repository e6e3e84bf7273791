"""Supervisor pages under ``/supervisor`` (server-rendered, Flask-Login)."""

from flask import Blueprint

from ..extensions import db, login_manager
from ..models import User

supervisor = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, user_id)
