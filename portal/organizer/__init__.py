"""The organizer blueprint."""

from flask import Blueprint

bp = Blueprint("organizer", __name__)

from . import views  # noqa: E402,F401 - routes register on import
