"""Signing organizer users in and out.

Passwords are scrypt hashes (services/organizers.hash_password). Every failed login gets the
same message, whatever the cause, and takes about the same time, so the form tells nobody
which e-mail addresses have accounts. Attempts are rate limited per client address (all
attempts) and per account (failed attempts). A session carries the user's session version:
changing the password bumps it, which ends every other session of that user (the user loader
in portal/users.py refuses a stale version).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash

from ..errors import ValidationError
from ..extensions import db, limiter, login_manager
from ..jobs import commit
from ..models import User
from ..services import organizers
from . import bp
from .forms import LoginForm, PasswordForm
from .helpers import attach_errors, discard_changes

LOGIN_FAILED = "Wrong e-mail address or password."
# Checked against when the address is unknown, so both paths cost one scrypt verification.
_DUMMY_HASH = organizers.hash_password("not a real password, only for timing")


@bp.record_once
def _configure_login(state) -> None:
    login_manager.login_view = "organizer.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"


def authenticate(email: str, password: str) -> User | None:
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()


def _ip_limit() -> str:
    return current_app.config.get("LOGIN_LIMIT_PER_IP", "30 per 10 minutes")


def _account_limit() -> str:
    return current_app.config.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")


def _failed(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, key_func=get_remote_address, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed)
def login():
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("organizer.dashboard"))
    form = LoginForm(next=target or "")
    if request.method == "POST":
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            # A fresh session: nothing from before signing in is carried over.
            session.clear()
            login_user(user)
            return redirect(target or url_for("organizer.dashboard"), code=303)
        form.password.data = ""
        return render_template("organizer/session_login.html", form=form,
                               failure=LOGIN_FAILED), 401
    return render_template("organizer/session_login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """POST signs out (a CSRF-protected form, so no other site can sign anyone out)."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("organizer.login"))
        return render_template("organizer/session_logout.html")
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("organizer.login"), code=303)


@bp.route("/org/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if request.method == "POST":
        try:
            if form.new_password.data != form.confirm_password.data:
                raise ValidationError({"confirm_password": ["The two passwords differ."]})
            organizers.change_password(current_user, form.current_password.data,
                                       form.new_password.data)
        except ValidationError as error:
            discard_changes()
            attach_errors(form, error.fields)
            return render_template("organizer/account_edit.html", form=form), 400
        commit()
        login_user(current_user._get_current_object())  # this session moves to the new version
        flash("Your password is changed. Other sessions are signed out.", "success")
        return redirect(url_for("organizer.account"), code=303)
    return render_template("organizer/account_edit.html", form=form)
