"""Where a mail goes: the SMTP server (`MAIL_SERVER`, through Flask-Mailman) or, in the
embedded default, an `.eml` file per message in `MAIL_FOLDER`.

A transport sends a composed message under the message id the delivery job chose, and says,
where it can, whether a message with that id went out (see mail.py for why that matters).
It knows nothing of invoices.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import smtplib
import tempfile
from pathlib import Path

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives, Mail
from flask_mailman.backends.smtp import EmailBackend

mailman = Mail()


def init_mail(app: Flask) -> None:
    """Bind Flask-Mailman (used for SMTP) to the app."""
    mailman.init_app(app)


def _sender_domain() -> str:
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    domain = sender.rpartition("@")[2].strip(" >")
    return domain or "invoice-portal.localhost"


def new_message_id() -> str:
    """A fresh RFC 5322 Message-ID (`<time.random@our domain>`), unique without a row id."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"<{stamp}.{secrets.token_hex(12)}@{_sender_domain()}>"


class MailFolderError(RuntimeError):
    pass


class FolderTransport:
    """The embedded default: each message becomes `<MAIL_FOLDER>/<message id>.eml`.

    Written to a temporary file and renamed, so a file is there whole or not at all, and its
    name comes from the message id: whether a message went out is a question it can answer.
    """

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def path_for(self, message_id: str) -> Path:
        local = message_id.strip("<>").split("@", 1)[0]
        safe = "".join(ch if ch.isalnum() or ch in ".-_" else "-" for ch in local)
        return self.folder / f"{safe}.eml"

    def send(self, message: EmailMultiAlternatives, message_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(message_id)
        content = message.message().as_bytes()
        try:
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".sending-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise MailFolderError(f"The mail folder could not be written: {exc}") from exc

    def delivered(self, message_id: str) -> bool | None:
        return self.path_for(message_id).exists()


class DeliveryUnknown(Exception):  # noqa: N818 - an outcome, not a programming error
    """The message went out whole (DATA and its final dot) but the server's answer did not
    come back: it may or may not have been accepted. Never to be reported as a failure."""


def _tracking(base: type[smtplib.SMTP]) -> type[smtplib.SMTP]:
    class Tracking(base):
        """Knows whether the whole message (after the server's 354) has been written out."""

        body_sent = False
        _awaiting_body = False
        _last_command = ""

        def getreply(self):
            code, message = super().getreply()
            self._awaiting_body = self._last_command == "data" and code == 354
            return code, message

        def putcmd(self, cmd, args=""):
            self._last_command = cmd.lower()
            super().putcmd(cmd, args)

        def send(self, s):
            super().send(s)
            if self._awaiting_body:
                self._awaiting_body, self.body_sent = False, True

    return Tracking


_TRACKING_SMTP, _TRACKING_SMTP_SSL = _tracking(smtplib.SMTP), _tracking(smtplib.SMTP_SSL)


class _Backend(EmailBackend):
    @property
    def connection_class(self):
        return _TRACKING_SMTP_SSL if self.use_ssl else _TRACKING_SMTP


class SmtpTransport:
    """SMTP through Flask-Mailman (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS, … in the config)."""

    def send(self, message: EmailMultiAlternatives, message_id: str) -> None:
        config = current_app.config
        connection = mailman.get_connection(
            backend=_Backend, fail_silently=False, host=config["MAIL_SERVER"],
            port=config["MAIL_PORT"], username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"), use_tls=config.get("MAIL_USE_TLS"),
            use_ssl=config.get("MAIL_USE_SSL"), timeout=config.get("MAIL_TIMEOUT"))
        connection.open()
        try:
            if connection.send_messages([message]) != 1:
                raise smtplib.SMTPException("the mail server did not accept the message")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # A refusal (SMTPResponseException) is an answer; a connection that broke or timed
            # out after the message went out whole is not: the server may have taken it.
            if getattr(connection.connection, "body_sent", False) and not isinstance(
                    exc, smtplib.SMTPResponseException):
                raise DeliveryUnknown(describe_failure(exc)) from exc
            raise
        finally:
            try:
                connection.close()
            except Exception:  # noqa: BLE001, S110 - the outcome is decided; QUIT is a courtesy
                pass

    def delivered(self, message_id: str) -> bool | None:
        return None  # a mail server cannot be asked what it received


def transport() -> FolderTransport | SmtpTransport:
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport()
    return FolderTransport(current_app.config["MAIL_FOLDER"])


def describe_failure(exc: BaseException) -> str:
    """A reason an organizer can read: the server's answer where there is one."""
    if isinstance(exc, MailFolderError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        return "The mail server refused the recipient (" + "; ".join(answers) + ")."
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"The mail server refused the message: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPException):
        return f"The mail server failed: {exc}"
    if isinstance(exc, OSError):
        return f"The mail server could not be reached: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
