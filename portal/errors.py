"""Domain errors and the one place that turns any error into a response.

Services raise these; views never build error responses themselves. Under `/api/` the answer
is JSON `{"error": {"code", "message", "fields"?}}`; elsewhere an HTML page. The choice is made
by path because blueprint handlers never see routing 404/405s.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .i18n import _, _l


class PortalError(Exception):
    status = 500
    code = "error"
    message = _l("Something went wrong.")

    def __init__(self, message: str | None = None, *, code: str | None = None):
        # Said in the reader's language at the moment of the refusal (the class default is lazy).
        text = str(message or self.message)
        super().__init__(text)
        self.message = text
        if code:
            self.code = code


class ValidationError(PortalError):
    """Input is wrong; `fields` maps each bad field (dotted path) to a list of messages."""

    status = 400
    code = "invalid"
    message = _l("The input is not valid.")

    def __init__(self, fields: dict[str, list[str] | str] | None = None, message: str | None = None):
        super().__init__(message)
        self.fields = {k: ([v] if isinstance(v, str) else list(v)) for k, v in (fields or {}).items()}


class AuthError(PortalError):
    status = 401
    code = "unauthorized"
    message = _l("Authentication is required.")


class ForbiddenError(PortalError):
    status = 403
    code = "forbidden"
    message = _l("You may not do that.")


class NotFoundError(PortalError):
    status = 404
    code = "not_found"
    message = _l("Not found.")


class ConflictError(PortalError):
    status = 409
    code = "conflict"
    message = _l("Not allowed in this state.")

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 retry_after: int | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


# Path prefix -> a function (status, code, message, fields) -> Response: the seed dialects
# (portal/compat) answer errors in their own envelope, chosen by path like the API's.
ENVELOPES: dict[str, object] = {}


def register_envelope(prefix: str, build) -> None:
    ENVELOPES[prefix] = build


def _envelope_for_path():
    for prefix, build in ENVELOPES.items():
        if request.path.startswith(prefix):
            return build
    return None


def wants_json() -> bool:
    return request.path.startswith("/api/") or _envelope_for_path() is not None


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None):
    message = str(message)
    envelope = _envelope_for_path()
    if envelope is not None:
        response = envelope(status, code, message, fields or {})
    elif wants_json():
        body = {"error": {"code": code, "message": message}}
        if fields:
            body["error"]["fields"] = fields
        response = jsonify(body)
    else:
        response = render_template("errors/error.html", status=status, code=code,
                                   message=message, fields=fields or {})
        from flask import make_response
        response = make_response(response)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited",
}


# What a person reads for an HTTP error that came without a message of ours.
_HTTP_TEXTS = {
    400: _l("The request could not be understood."),
    401: _l("Authentication is required."),
    403: _l("You may not do that."),
    404: _l("The page you asked for does not exist, or is not yours to see."),
    405: _l("This address does not answer that method."),
    409: _l("Not allowed in this state."),
    413: _l("What you sent is too large."),
    415: _l("What you sent is in a format we do not read."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PortalError)
    def handle_portal_error(error: PortalError):
        headers = {}
        if isinstance(error, ConflictError) and error.retry_after:
            headers["Retry-After"] = str(error.retry_after)
        fields = error.fields if isinstance(error, ValidationError) else None
        return error_response(error.status, error.code, error.message, fields, headers)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = error.description or error.name
        if error.description == type(error).description and status in _HTTP_TEXTS:
            message = str(_HTTP_TEXTS[status])  # werkzeug's own English, said in ours
        if status == 429:
            message = _("Too many attempts. Please wait a moment and try again.")
        if status == 400 and "CSRF" in (error.description or ""):
            code = "csrf"
        headers = {}
        if status == 405 and error.get_response().headers.get("Allow"):
            headers["Allow"] = error.get_response().headers["Allow"]
        if status == 429 and getattr(error, "retry_after", None):
            headers["Retry-After"] = str(error.retry_after)
        return error_response(status, code, message, None, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if app.testing and not app.config.get("RENDER_UNEXPECTED_ERRORS"):
            raise error
        app.logger.exception("Unhandled error")
        return error_response(500, "server_error", _("Something went wrong on our side."))
