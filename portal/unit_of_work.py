"""One unit of work per request and per CLI command: all of it commits, or none of it.

Shaped like Indico's `RH.process`. Every view is wrapped once, when the app is made: the view
runs and its answer becomes a response; an answer below 400 commits the session and then
dispatches the jobs the request queued (jobs run only after their data is committed); any other
answer, and any exception, rolls back and drops the jobs before the error handlers answer.
Views and services never commit; a refused step simply raises (`RefusedError` for a
back-office button, which flashes why and redirects).

Commits of their own, each documented where it is made:
- the `Idempotency-Key` claim (api/idempotency.py), committed before the work so that a
  concurrent retry sees it, and the stored refusal of a keyed request;
- the mail delivery claim (services/mail.py), committed before the first byte goes out;
- a job's own unit of work (`jobs.run_job`: its claim, then its work with its "done"; the
  relay `jobs.relay_jobs`; `jobs.run_now`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, flash, redirect

from .errors import PortalError
from .extensions import db
from .jobs import commit, discard_pending


def rollback() -> None:
    """Undo the unit of work and drop the jobs it queued."""
    db.session.rollback()
    discard_pending()


def _wrap_view(view: Callable) -> Callable:
    if getattr(view, "_unit_of_work", False):
        return view

    @wraps(view)
    def unit_of_work(*args, **kwargs):
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            rollback()
            raise
        if response.status_code < 400:
            commit()
        else:
            rollback()
        return response

    unit_of_work._unit_of_work = True
    return unit_of_work


class RefusedError(PortalError):
    """A back-office or customer-area step that is not allowed: roll back, say why, go back.

    Raised by a view that answers a button with a redirect; the unit of work rolls back like
    for any exception, then the handler flashes the message and redirects (303) to `to`.
    """

    status = 303
    code = "refused"

    def __init__(self, message: str, *, to: str):
        super().__init__(message)
        self.to = to


def init_unit_of_work(app: Flask) -> None:
    """Wrap every view registered so far (call after the blueprints)."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = _wrap_view(view)

    @app.errorhandler(RefusedError)
    def _refused(refusal: RefusedError):
        flash(refusal.message, "error")
        return redirect(refusal.to, code=303)


def command(func: Callable) -> Callable:
    """The same unit of work for a CLI command: commit when it returns, roll back on error."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
        except BaseException:
            rollback()
            raise
        commit()
        return result

    return wrapper


__all__ = ["RefusedError", "command", "commit", "init_unit_of_work", "rollback"]
