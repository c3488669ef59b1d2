"""Flask-Login's view of our users.

The session stores "<id>:<session_version>"; bumping a user's session_version (password
change, demo credential refresh) ends every other session of that user at once.
"""

from __future__ import annotations

from .extensions import db, login_manager
from .models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    raw_id, _, version = (user_id or "").partition(":")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
