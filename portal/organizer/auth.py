"""Signing organizer users in and out.

Passwords are scrypt hashes (services/organizers.hash_password). Every failed login gets the
same message, whatever the cause, and takes about the same time, so the form tells nobody
which e-mail addresses have accounts. Only failed attempts are counted (portal/ratelimits):
per account and client address, per address, and, more slowly, per account from anywhere; a
browser that signed in to the account before carries a signed device cookie and counts on a
budget of its own, so a stranger's failures never lock its user out.

Sessions are kept on the server (portal/sessions): sign-in gives the session a new id,
sign-out deletes it, "sign out everywhere" also bumps the user's session version, which ends
every other session of that user (the user loader in portal/users.py refuses a stale
version), as changing the password does.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash

from .. import ratelimits
from ..errors import ValidationError
from ..extensions import db, login_manager
from ..i18n import N_, _, _l
from ..models import User
from ..services import organizers, password_resets
from ..sessions import renew_session_id
from ..unit_of_work import rollback
from . import bp
from .forms import (
    AccountSettingsForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordForm,
    ResetPasswordForm,
    options,
)
from .helpers import attach_errors

LOGIN_FAILED = _l("Wrong e-mail address or password.")
# Checked against when the address is unknown, so both paths cost one scrypt verification.
_DUMMY_HASH = organizers.hash_password("not a real password, only for timing")


@bp.record_once
def _configure_login(state) -> None:
    login_manager.login_view = "organizer.login"
    login_manager.login_message = N_("Please sign in to see this page.")
    login_manager.localize_callback = _  # said in the reader's language when flashed
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


# ---------------------------------------------------------------- failed attempts

DEVICE_COOKIE = "portal_login_device"
DEVICE_COOKIE_DAYS = 180
DEFAULT_LIMITS = {name: ratelimits.DEFAULT_LIMITS[name] for name in (
    "LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_IP", "LOGIN_LIMIT_PER_ACCOUNT_GLOBAL")}


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def _known_device(email: str) -> str | None:
    """The id of this browser if it signed in to `email` before (a signed cookie), else None.

    The cookie names the user's session version, so changing the password or signing out
    everywhere also ends the trust in every browser the user signed in with.
    """
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not email:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=DEVICE_COOKIE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("e") != email:
        return None
    version = db.session.scalar(select(User.session_version).where(User.email == email))
    device = data.get("d")
    if version is None or data.get("v") != version or not isinstance(device, str) or not device:
        return None
    return device


def _remember_device(response, user: User, device: str | None) -> None:
    value = _device_serializer().dumps({"e": user.email, "v": user.session_version,
                                        "d": device or secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_COOKIE_DAYS * 86400,
                        path=url_for("organizer.login"), httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")


def _budgets(email: str, device: str | None) -> list:
    def item(name):
        return ratelimits.limit(name, DEFAULT_LIMITS[name])

    if device is not None:
        return [(item("LOGIN_LIMIT_PER_ACCOUNT"), ("login-device", email, device))]
    address = request.remote_addr or "unknown"
    return [(item("LOGIN_LIMIT_PER_ACCOUNT"), ("login-account-address", email, address)),
            (item("LOGIN_LIMIT_PER_IP"), ("login-address", address)),
            (item("LOGIN_LIMIT_PER_ACCOUNT_GLOBAL"), ("login-account", email))]


# ---------------------------------------------------------------- views


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("organizer.dashboard"))
    form = LoginForm(next=target or "")
    if request.method == "POST":
        email = (form.email.data or "").strip().lower()
        device = _known_device(email)
        budgets = _budgets(email, device)
        # Before the password is checked: once spent, a guess learns nothing.
        ratelimits.refuse(budgets)
        user = authenticate(email, form.password.data)
        if user is not None:
            # A fresh session under a new id: nothing from before signing in is carried
            # over, and an id planted in this browser before is worth nothing.
            renew_session_id()
            session.clear()
            login_user(user)
            response = redirect(target or url_for("organizer.dashboard"), code=303)
            _remember_device(response, user, device)
            return response
        for budget, key in budgets:
            ratelimits.count_failure(budget, *key)
        form.password.data = ""
        return render_template("organizer/session_login.html", form=form,
                               failure=LOGIN_FAILED), 401
    return render_template("organizer/session_login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """POST signs out (a CSRF-protected form, so no other site can sign anyone out).

    The session is deleted from the store, so a copy of its cookie opens nothing afterwards.
    With `everywhere`, every other session of the user ends too (its session version is
    bumped); without, the user's other browsers stay signed in.
    """
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("organizer.login"))
        return render_template("organizer/session_logout.html")
    everywhere = bool(request.form.get("everywhere")) and current_user.is_authenticated
    if everywhere:
        organizers.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out everywhere.") if everywhere else _("You are signed out."),
          "success")
    renew_session_id()
    return redirect(url_for("organizer.login"), code=303)


def _profile_form(formdata=None) -> AccountSettingsForm:
    form = AccountSettingsForm(formdata=formdata, data={"timezone": current_user.timezone or ""})
    form.timezone.choices = options([("", _("UTC (the default)"))]
                                    + [(zone, zone.replace("_", " "))
                                       for zone in organizers.time_zones()])
    return form


@bp.post("/org/account/profile")
@login_required
def account_profile():
    """The user's time zone: times in the back office show in it."""
    form = _profile_form(request.form)
    try:
        organizers.update_account_settings(current_user._get_current_object(),
                                  timezone=form.timezone.data or "")
    except ValidationError as error:
        rollback()
        attach_errors(form, error.fields)
        return render_template("organizer/account_edit.html", form=PasswordForm(formdata=None),
                               profile=form), 400
    flash(_("Your settings are saved."), "success")
    return redirect(url_for("organizer.account"), code=303)


@bp.route("/org/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if request.method == "POST":
        try:
            if form.new_password.data != form.confirm_password.data:
                raise ValidationError({"confirm_password": [_("The two passwords differ.")]})
            organizers.change_password(current_user, form.current_password.data,
                                       form.new_password.data)
        except ValidationError as error:
            rollback()  # show the form again on what is stored
            attach_errors(form, error.fields)
            return render_template("organizer/account_edit.html", form=form,
                                   profile=_profile_form()), 400
        login_user(current_user._get_current_object())  # this session moves to the new version
        renew_session_id()  # and to a new id: a copy of its cookie from before is worth nothing
        flash(_("Your password is changed. Other sessions are signed out."), "success")
        return redirect(url_for("organizer.account"), code=303)
    return render_template("organizer/account_edit.html", form=form, profile=_profile_form())


# ---------------------------------------------------------------- password reset (issue 18)

RESET_LIMITS = {
    # requests from one address, whatever the account
    "RESET_LIMIT_PER_IP": "10 per 15 minutes",
    # requests for one account from anywhere: a mailbox is not flooded
    "RESET_LIMIT_PER_ACCOUNT": "3 per hour",
}
RESET_SENT = _l("If an account exists for this address, a link to set a new password is on "
                "its way. It works once, for one hour.")


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    """Ask for a reset link: the same answer whether or not the address has an account."""
    form = ForgotPasswordForm()
    if request.method == "GET":
        return render_template("organizer/password_forgot.html", form=form)
    email = (form.email.data or "").strip().lower()
    budgets = [(ratelimits.limit(name, RESET_LIMITS[name]), key) for name, key in (
        ("RESET_LIMIT_PER_IP", ("reset-address", request.remote_addr or "unknown")),
        ("RESET_LIMIT_PER_ACCOUNT", ("reset-account", email)))]
    ratelimits.refuse(budgets)
    for budget, key in budgets:  # every request counts, known address or not
        ratelimits.count_failure(budget, *key)
    try:
        password_resets.request_reset(email)
    except ValidationError as error:
        rollback()
        attach_errors(form, error.fields)
        return render_template("organizer/password_forgot.html", form=form), 400
    flash(str(RESET_SENT), "success")
    return redirect(url_for("organizer.login"), code=303)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    """Choose a new password through a mailed link; then sign in with it. A link that is
    unknown, used or expired answers 410 Gone with a way to ask for a new one."""
    form = ResetPasswordForm()
    if password_resets.valid_reset(token) is None:
        return render_template("organizer/password_reset.html", form=None), 410
    if request.method == "GET":
        return render_template("organizer/password_reset.html", form=form)
    try:
        password_resets.reset_password(token, form.new_password.data or "",
                                       form.confirm_password.data or "")
    except ValidationError as error:
        rollback()
        if "token" in error.fields:
            return render_template("organizer/password_reset.html", form=None), 410
        attach_errors(form, error.fields)
        return render_template("organizer/password_reset.html", form=form), 400
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    renew_session_id()
    flash(_("Your password is set. Sign in with it."), "success")
    return redirect(url_for("organizer.login"), code=303)
