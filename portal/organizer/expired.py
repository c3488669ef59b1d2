"""An expired session on a back-office form: sign in again, come back to the same form with
what was typed (issue 18), never a bare "400 The CSRF session token is missing." page.

- A POST whose CSRF token fails (the session it belonged to is gone), or that arrives signed
  out, keeps its fields (services/form_stash) and sends the browser to the sign-in page with
  `next` pointing back at the same page plus `?stash=<one-time key>`.
- Back on that page (GET with `stash`), the kept fields come back in a form that posts them
  to the page again with a fresh token. Forms with a row editor (invoices, orders) get
  `command=restore`, which only re-renders them with what was typed (nothing is saved), and
  browsers with scripts post that at once; other forms (a payment, a dispute reason) wait
  for a click ("Send again"). A plain button (nothing typed) keeps nothing: after signing in
  the user is back on the page the button was on.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..extensions import db, login_manager
from ..i18n import _, _l
from ..services import form_stash
from ..services.form_stash import STASH_LIFETIME
from . import bp

RESTORE_COMMAND = "restore"
STASH_COOKIE = "portal_form_stash"
# The forms whose `command=restore` only shows them again (row editors): given back at once.
EDITOR_ENDPOINTS = frozenset({"organizer.invoice_new", "organizer.invoice_edit",
                              "organizer.order_new"})


def _page_to_return_to() -> str:
    """The page the form is on: its own address when it answers GET (the invoice form),
    else the page the button was on (a lifecycle action, a payment), else the dashboard."""
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/org/"):
        return referrer.path
    return url_for("organizer.dashboard")


def _stash_and_sign_in(message: str, code: int = 303):
    from .auth import safe_next

    key = None
    if request.method == "POST" and request.form:
        key = form_stash.stash_form(request.path, list(request.form.items(multi=True)))
        db.session.commit()  # outside any unit of work: an error handler, before a view
    page = safe_next(_page_to_return_to()) or url_for("organizer.dashboard")
    target = page + ("?" + urlencode({"stash": key}) if key else "")
    flash(message, "info")
    if current_user.is_authenticated:
        response = redirect(target, code=code)
    else:
        response = redirect(url_for("organizer.login", next=target), code=code)
    if key:
        # Only the browser that typed it gets it back: a link with someone else's key is
        # worth nothing without this cookie (no way to make a victim send a planted form).
        response.set_cookie(STASH_COOKIE, key, max_age=int(STASH_LIFETIME.total_seconds()),
                            path="/org/", httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


# Signing in and out keep nothing (a password is never stashed): their own page again, 400.
AUTH_ENDPOINTS = frozenset({"organizer.login", "organizer.logout", "organizer.password_forgot",
                            "organizer.password_reset"})
# Asked by scripts (the live totals): a plain 400 they read; the form itself stays on screen.
NOT_STASHED = frozenset({"organizer.invoice_preview"})
EXPIRED_FORM = _l("This form has expired. Reload the page and send it again.")


@bp.app_errorhandler(CSRFError)
def _csrf_expired(error: CSRFError):
    if (request.blueprint != "organizer" or request.endpoint in AUTH_ENDPOINTS
            or request.endpoint in NOT_STASHED):
        from ..errors import error_response
        if request.endpoint == "organizer.login":
            from .forms import LoginForm
            form = LoginForm(formdata=None, next=request.form.get("next") or "")
            return render_template("organizer/session_login.html", form=form,
                                   failure=str(EXPIRED_FORM)), 400
        return error_response(400, "csrf", str(EXPIRED_FORM))
    return _stash_and_sign_in(_("Your session had expired. Sign in again to continue "
                                "where you left off; what you typed is kept."))


@login_manager.unauthorized_handler
def _signed_out():
    if request.method == "POST" and request.blueprint == "organizer":
        return _stash_and_sign_in(_("Your session had expired. Sign in again to continue "
                                    "where you left off; what you typed is kept."), code=302)
    from flask_login.utils import login_url

    flash(_("Please sign in to see this page."), "info")
    return redirect(login_url("organizer.login", next_url=request.url))


@bp.before_app_request
def _restore_stash():
    if request.method != "GET" or "stash" not in request.args or request.blueprint != "organizer":
        return None
    if not current_user.is_authenticated:
        return None  # the view sends the user to sign in first; the key stays in `next`
    key = request.args.get("stash") or ""
    cookie = request.cookies.get(STASH_COOKIE) or ""
    kept = None
    if hmac.compare_digest(key.encode(), cookie.encode()):
        kept = form_stash.take_stash(key)
        db.session.commit()  # the stash is used up, whatever comes next
    if kept is None:
        flash(_("What you had typed could not be kept (too old or already restored)."),
              "error")
        return redirect(request.path, code=303)
    action, pairs = kept
    editor = _endpoint_of(action) in EDITOR_ENDPOINTS
    if editor:
        pairs = [(n, v) for n, v in pairs if n != "command"] + [("command", RESTORE_COMMAND)]
    response = current_app.make_response(render_template(
        "organizer/form_restore.html", pairs=pairs, action=action, editor=editor))
    response.delete_cookie(STASH_COOKIE, path="/org/")
    response.headers["Cache-Control"] = "no-store"
    return response


def _endpoint_of(path: str) -> str | None:
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(path, method="POST")
    except Exception:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect
        return None
    return endpoint
