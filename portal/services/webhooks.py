"""Webhooks (SPEC §13): endpoints, signed delivery with retries, the periodic work.

The outbox itself (the event rows written with the change) is services/webhook_events.py.
Here:

- **Endpoints** per organizer: URL, subscribed event types, active flag and a signing secret
  shown once (at creation and rotation). Made, changed and deleted with an audit entry.
- **Delivery** (`deliver`, the job queued after the commit): claim the delivery in a short
  transaction (`sending`, with a lease), POST outside any transaction, log the try and settle
  in another. `Portal-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; 2xx is
  delivered; anything else (or no answer within WEBHOOK_TIMEOUT seconds) is retried with
  exponential backoff until WEBHOOK_RETRY_WINDOW (3 days) after the event, then `failed`.
  Redirects are not followed; at most RESPONSE_LIMIT bytes of an answer are read.
- **Order per invoice**: a delivery is claimed only while no earlier delivery of the same
  invoice to the same endpoint is still pending or sending; a delivery that succeeds sends
  the next one of its invoice at once.
- **Never lost**: the claim is a lease. A worker killed mid-try leaves `sending` behind; once
  the lease is over, the retry pickup (`pickup`, run by `tick` every sweep interval) claims it
  again, like every pending delivery that is due (a job lost before it ran included).
- **SSRF guard**: private, loopback, link-local (and other non-global) addresses are refused
  when an endpoint is saved and again at delivery, after DNS resolution; the connection goes
  to the very address that was checked. `WEBHOOK_ALLOW_PRIVATE_TARGETS` lifts it (on by
  default in development and tests only).
- **Retention**: events (with their deliveries and attempts) are purged after
  WEBHOOK_RETENTION_DAYS (30); `tick` runs the purge and the daily `invoice.overdue` sweep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from ..errors import NotFoundError
from ..extensions import db
from ..i18n import _
from ..jobs import commit, enqueue
from ..models import (
    AuditEntry,
    Invoice,
    Organizer,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ..models.types import utcnow
from . import audit, webhook_events
from .audit import Actor
from .input import FieldErrors
from .invoice_queries import Page
from .invoices import lock_invoice
from .secrets import new_secret
from .webhook_events import DELIVER_JOB, EVENT_TYPES, envelope

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret
SIGNATURE_HEADER = "Portal-Signature"
RESPONSE_LIMIT = 1024      # bytes of an answer read, and kept as the excerpt
MAX_URL_LENGTH = 2000
MAX_BACKOFF = 6 * 3600     # seconds between two tries at most
LEASE_MARGIN = 30          # seconds a claim outlives the timeout
UNDELIVERED = ("pending", "sending")
OVERDUE_STATUSES = ("open", "sent")


def _config(name: str, default):
    return current_app.config.get(name, default) if current_app else default


# ---------------------------------------------------------------- signing


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `Portal-Signature` header value of `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


# ---------------------------------------------------------------- the SSRF guard


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class TargetRefusedError(Exception):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


def resolve_target(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for `host`, all of them checked; TargetRefusedError otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefusedError(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefusedError(f"cannot resolve {host}")
    if not allow_private:
        refused = [a for a in addresses if _refused_address(a)]
        if refused:
            raise TargetRefusedError(f"{host} resolves to a private, loopback or link-local "
                                f"address ({', '.join(refused)})")
    return addresses


def _split_url(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname or "", port


def clean_url(errors: FieldErrors, field: str, value, *, allow_private: bool) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.add(field, _("Enter the URL webhooks are sent to."))
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        errors.add(field, _("Enter a valid http or https URL."))
        return None
    if len(url) > MAX_URL_LENGTH:
        errors.add(field, _("Use at most %(n)s characters.", n=MAX_URL_LENGTH))
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add(field, _("Enter a valid http or https URL."))
        return None
    if parts.username or parts.password:
        errors.add(field, _("Leave user names and passwords out of the URL."))
        return None
    if parts.fragment:
        errors.add(field, _("Leave the #fragment out of the URL."))
        return None
    if not allow_private:
        _scheme, host, port = _split_url(url)
        try:
            resolve_target(host, port, allow_private=False)
        except TargetRefusedError:
            errors.add(field, _("This address is private, loopback or link-local (or cannot be "
                                "resolved); webhooks are only sent to public addresses."))
            return None
    return url


# ---------------------------------------------------------------- endpoints


def _allow_private() -> bool:
    return bool(_config("WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def clean_endpoint(data: dict, *, creating: bool) -> dict:
    """The endpoint fields of `data` (url, events, active); every problem at once."""
    errors = FieldErrors()
    clean: dict = {}
    for key in data:
        if key not in ("url", "events", "active"):
            errors.add(key, _("Unknown field."))
    if creating or "url" in data:
        clean["url"] = clean_url(errors, "url", data.get("url"), allow_private=_allow_private())
    if creating or "events" in data:
        events = data.get("events")
        if not isinstance(events, list) or not events:
            errors.add("events", _("Choose at least one event type."))
        else:
            chosen = []
            for index, name in enumerate(events):
                if not isinstance(name, str) or name not in EVENT_TYPES:
                    errors.add(f"events.{index}", _("Unknown event type. Choose among: %(types)s.",
                                                    types=", ".join(EVENT_TYPES)))
                elif name not in chosen:
                    chosen.append(name)
            clean["events"] = [t for t in EVENT_TYPES if t in chosen]
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors.add("active", _("Enter true or false."))
        else:
            clean["active"] = data["active"]
    errors.raise_if_any()
    return clean


def _new_secret() -> str:
    return SECRET_PREFIX + new_secret(24)


def _describe(endpoint: WebhookEndpoint) -> dict:
    return {"url": endpoint.url, "events": list(endpoint.events), "active": endpoint.active}


def create_endpoint(organizer: Organizer, data: dict, *, actor: Actor
                    ) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which is shown this once."""
    clean = clean_endpoint(data, creating=True)
    secret = _new_secret()
    endpoint = WebhookEndpoint(organizer_id=organizer.id, url=clean["url"],
                               events=clean["events"], active=clean.get("active", True),
                               secret=secret, secret_prefix=secret[:10])
    db.session.add(endpoint)
    db.session.flush()
    webhook_events.forget_endpoints()
    audit.record(actor, "create", organizer_id=organizer.id, object_type="webhook",
                 object_id=endpoint.id, data=_describe(endpoint))
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, data: dict, *, actor: Actor) -> WebhookEndpoint:
    clean = clean_endpoint(data, creating=False)
    for key, value in clean.items():
        setattr(endpoint, key, value)
    db.session.flush()
    webhook_events.forget_endpoints()
    audit.record(actor, "edit", organizer_id=endpoint.organizer_id, object_type="webhook",
                 object_id=endpoint.id, data=_describe(endpoint))
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, *, actor: Actor) -> None:
    audit.record(actor, "delete", organizer_id=endpoint.organizer_id, object_type="webhook",
                 object_id=endpoint.id, data=_describe(endpoint))
    db.session.delete(endpoint)
    db.session.flush()
    webhook_events.forget_endpoints()


def rotate_secret(endpoint: WebhookEndpoint, *, actor: Actor) -> str:
    """A new signing secret, used from the next try on; shown this once."""
    secret = _new_secret()
    endpoint.secret, endpoint.secret_prefix = secret, secret[:10]
    endpoint.secret_rotated_at = utcnow()
    db.session.flush()
    audit.record(actor, "rotate_secret", organizer_id=endpoint.organizer_id,
                 object_type="webhook", object_id=endpoint.id)
    return secret


def organizer_endpoints(organizer: Organizer) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.organizer_id == organizer.id).order_by(WebhookEndpoint.id)))


def endpoint_of_organizer(organizer: Organizer, endpoint_id) -> WebhookEndpoint:
    """One of the organizer's endpoints; anyone else's is the same 404 as a missing one."""
    try:
        endpoint_id = int(endpoint_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    endpoint = db.session.scalar(select(WebhookEndpoint).where(
        WebhookEndpoint.organizer_id == organizer.id, WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFoundError()
    return endpoint


def endpoint_deliveries(endpoint: WebhookEndpoint, *, page: int = 1, page_size: int = 50
                        ) -> Page:
    """The endpoint's deliveries, newest first, with their event and attempts."""
    from sqlalchemy.orm import joinedload, selectinload

    count = db.session.scalar(select(func.count(WebhookDelivery.id)).where(
        WebhookDelivery.endpoint_id == endpoint.id)) or 0
    items = list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(joinedload(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log))
        .order_by(WebhookDelivery.id.desc())
        .offset((page - 1) * page_size).limit(page_size)))
    return Page(items=items, count=count, page=page, page_size=page_size)


def delivery_of_endpoint(endpoint: WebhookEndpoint, delivery_id) -> WebhookDelivery:
    try:
        delivery_id = int(delivery_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise NotFoundError()
    return delivery


def redeliver(delivery: WebhookDelivery, *, actor: Actor) -> WebhookDelivery:
    """Send this delivery again, by hand, after the commit (whatever its state)."""
    if delivery.state != "sending":
        delivery.state = "pending"
    delivery.next_attempt_at = utcnow()
    db.session.flush()
    audit.record(actor, "redeliver", organizer_id=delivery.event.organizer_id,
                 object_type="webhook", object_id=delivery.endpoint_id,
                 data={"delivery": delivery.id, "event": delivery.webhook_event_id})
    enqueue(DELIVER_JOB, delivery.id, True)
    return delivery


def delivery_to_dict(delivery: WebhookDelivery) -> dict:
    def iso(value):
        return value.isoformat().replace("+00:00", "Z") if value is not None else None

    return {
        "id": delivery.id,
        "event": envelope(delivery.event),
        "state": delivery.state,
        "attempts": [{"number": a.number, "at": iso(a.started_at),
                      "duration_ms": a.duration_ms, "status": a.status_code, "error": a.error,
                      "response": a.response_excerpt, "manual": a.manual}
                     for a in delivery.attempt_log],
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.state == "pending" else None,
        "delivered_at": iso(delivery.delivered_at),
        "created_at": iso(delivery.created_at),
    }


def endpoint_to_dict(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict:
    body = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "secret_prefix": endpoint.secret_prefix,
        "created_at": endpoint.created_at.isoformat().replace("+00:00", "Z"),
    }
    if secret is not None:
        body["secret"] = secret
    return body


# ---------------------------------------------------------------- delivery


@dataclass
class Outcome:
    status: int | None = None
    excerpt: str = ""
    error: str | None = None
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever DNS says now (no rebinding)."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, *, timeout: float,
         allow_private: bool) -> Outcome:
    """One POST: checked address, `timeout` seconds in all, no redirects, a bounded read."""
    started = time.monotonic()
    outcome = Outcome()
    scheme, host, port = _split_url(url)
    connection = None
    timer = None
    try:
        address = resolve_target(host, port, allow_private=allow_private)[0]
        kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = kind(host, port, address, timeout)
        # The whole exchange ends after `timeout`, however slowly the other side drips bytes.
        timer = threading.Timer(timeout, _cut, (connection,))
        timer.daemon = True
        timer.start()
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        outcome.status = response.status
        data = response.read(RESPONSE_LIMIT)
        outcome.excerpt = data.decode("utf-8", "replace")
    except TargetRefusedError as exc:
        outcome.error = f"refused: {exc}"[:500]
    except TimeoutError:
        outcome.error = f"timeout after {timeout:g} s"
    except (OSError, http.client.HTTPException) as exc:
        elapsed = time.monotonic() - started
        outcome.error = (f"timeout after {timeout:g} s" if elapsed >= timeout
                         else f"{type(exc).__name__}: {exc}"[:500])
    finally:
        if timer is not None:
            timer.cancel()
        if connection is not None:
            connection.close()
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _cut(connection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def backoff(number: int) -> float:
    """Seconds to wait after the `number`-th failed try: base, ×4 each time, at most 6 h."""
    base = float(_config("WEBHOOK_RETRY_BASE", 30))
    return min(base * 4 ** (number - 1), MAX_BACKOFF)


def _claim(delivery_id: int, now: dt.datetime) -> dict | None:
    """Take the delivery for one try (committed), or None: not due, taken, or waiting for an
    earlier delivery of its invoice to the same endpoint."""
    timeout = float(_config("WEBHOOK_TIMEOUT", 10))
    earlier = aliased(WebhookDelivery)
    table = WebhookDelivery
    waits = exists().where(earlier.endpoint_id == table.endpoint_id,
                           earlier.invoice_id == table.invoice_id,
                           earlier.webhook_event_id < table.webhook_event_id,
                           earlier.state.in_(UNDELIVERED))
    statement = (update(table)
                 .where(table.id == delivery_id,
                        or_(and_(table.state == "pending", table.next_attempt_at <= now),
                            and_(table.state == "sending", table.lease_until < now)),
                        or_(table.invoice_id.is_(None), ~waits))
                 .values(state="sending", claim=table.claim + 1,
                         lease_until=now + dt.timedelta(seconds=timeout + LEASE_MARGIN))
                 .returning(table.claim)
                 .execution_options(synchronize_session=False))
    try:
        claim = db.session.execute(statement).scalar()
        if claim is None:
            db.session.rollback()
            return None
        row = db.session.execute(
            select(WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEvent)
            .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.webhook_event_id)
            .where(WebhookDelivery.id == delivery_id)).one()
        body = json.dumps(envelope(row[2]), ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        job = {"claim": claim, "url": row[0], "secret": row[1], "body": body,
               "event_created": row[2].created_at}
        commit()
        return job
    except Exception:
        db.session.rollback()
        raise


def _settle(delivery_id: int, job: dict, outcome: Outcome, *, manual: bool,
            now: dt.datetime) -> str:
    """Log the try and move the delivery on; returns the new state."""
    statement = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    delivery = db.session.scalar(statement.execution_options(populate_existing=True))
    if delivery is None:  # purged or its endpoint deleted meanwhile
        db.session.rollback()
        return "gone"
    delivery.attempts += 1
    db.session.add(WebhookAttempt(
        delivery_id=delivery.id, number=delivery.attempts, started_at=now,
        duration_ms=outcome.duration_ms, status_code=outcome.status,
        error=outcome.error, response_excerpt=outcome.excerpt[:RESPONSE_LIMIT], manual=manual))
    delivery.last_status = outcome.status
    if delivery.state == "sending" and delivery.claim == job["claim"]:
        if outcome.delivered:
            delivery.state, delivery.delivered_at = "delivered", utcnow()
            delivery.next_attempt_at = None
        else:
            window = float(_config("WEBHOOK_RETRY_WINDOW", 3 * 86400))
            deadline = job["event_created"] + dt.timedelta(seconds=window)
            if now >= deadline:
                delivery.state, delivery.next_attempt_at = "failed", None
            else:
                delivery.state = "pending"
                delivery.next_attempt_at = min(
                    now + dt.timedelta(seconds=backoff(delivery.attempts)), deadline)
        delivery.lease_until = None
    state = delivery.state
    commit()
    return state


def _next_of_invoice(delivery_id: int) -> int | None:
    """The next pending delivery of the same invoice to the same endpoint."""
    current = db.session.get(WebhookDelivery, delivery_id)
    if current is None or current.invoice_id is None:
        return None
    found = db.session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == current.endpoint_id,
            WebhookDelivery.invoice_id == current.invoice_id,
            WebhookDelivery.webhook_event_id > current.webhook_event_id,
            WebhookDelivery.state == "pending")
        .order_by(WebhookDelivery.webhook_event_id).limit(1))
    db.session.rollback()
    return found


def deliver(delivery_id: int, manual: bool = False, *, now: dt.datetime | None = None
            ) -> str | None:
    """The delivery job: one try of this delivery (if it is due and first in line), then the
    next ones of its invoice while they succeed. Safe to run twice, any time: the claim lets
    one try through. Returns the state the delivery ended in, None if it was not tried."""
    state = None
    first = True
    while delivery_id is not None:
        moment = now or utcnow()
        job = _claim(delivery_id, moment)
        if job is None:
            return state if not first else None
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "InvoicePortal-Webhooks/1",
                   SIGNATURE_HEADER: sign(job["secret"], job["body"], timestamp)}
        outcome = post(job["url"], job["body"], headers,
                       timeout=float(_config("WEBHOOK_TIMEOUT", 10)),
                       allow_private=_allow_private())
        state = _settle(delivery_id, job, outcome, manual=manual and first, now=moment)
        first = False
        if state != "delivered":
            return state
        delivery_id = _next_of_invoice(delivery_id)
    return state


def queue_event_deliveries(event_id: int) -> None:
    """The job queued with a new event: one delivery job per endpoint, after this commits."""
    for delivery_id in db.session.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.webhook_event_id == event_id).order_by(WebhookDelivery.id)):
        enqueue(DELIVER_JOB, delivery_id)


def due_deliveries(now: dt.datetime, limit: int) -> list[int]:
    """Pending deliveries that are due, and tries whose lease ran out (a worker died)."""
    table = WebhookDelivery
    return list(db.session.scalars(
        select(table.id).where(or_(and_(table.state == "pending", table.next_attempt_at <= now),
                                   and_(table.state == "sending", table.lease_until < now)))
        .order_by(table.webhook_event_id, table.id).limit(limit)))


def pickup(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The retry pickup: try every due delivery (earlier events first). Returns the tries."""
    now = now or utcnow()
    try:
        ids = due_deliveries(now, limit)
    finally:
        db.session.rollback()
    tried = 0
    for delivery_id in ids:
        try:
            if deliver(delivery_id, now=now) is not None:
                tried += 1
        except Exception:
            db.session.rollback()
            logger.exception("webhook delivery %s failed", delivery_id)
    return tried


# ---------------------------------------------------------------- retention and overdue


def purge(*, now: dt.datetime | None = None) -> int:
    """Forget events (their deliveries and attempts with them) older than the retention."""
    days = int(_config("WEBHOOK_RETENTION_DAYS", 30))
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    old = select(WebhookEvent.id).where(WebhookEvent.created_at < cutoff)
    ids = list(db.session.scalars(old))
    if ids:
        # Children first: SQLite enforces the cascade only with foreign keys on.
        delivery_ids = select(WebhookDelivery.id).where(
            WebhookDelivery.webhook_event_id.in_(ids))
        db.session.execute(delete(WebhookAttempt).where(
            WebhookAttempt.delivery_id.in_(delivery_ids)))
        db.session.execute(delete(WebhookDelivery).where(
            WebhookDelivery.webhook_event_id.in_(ids)))
        db.session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids)))
    commit()
    return len(ids)


def _told_overdue():
    return exists().where(AuditEntry.invoice_id == Invoice.id, AuditEntry.action == "overdue")


def sweep_overdue(*, today: dt.date | None = None, limit: int = 200) -> list[int]:
    """Tell of every invoice past its due date and still unpaid, once each (an `overdue`
    audit entry, which emits `invoice.overdue`). Commits per invoice."""
    today = today or dt.date.today()

    def overdue():
        return (Invoice.status.in_(OVERDUE_STATUSES), Invoice.due_date.is_not(None),
                Invoice.due_date < today, ~_told_overdue())

    try:
        ids = list(db.session.scalars(select(Invoice.id).where(*overdue())
                                      .order_by(Invoice.id).limit(limit)))
    finally:
        db.session.rollback()
    told = []
    for invoice_id in ids:
        try:
            invoice = db.session.get(Invoice, invoice_id)
            if invoice is None:
                continue
            lock_invoice(invoice)
            still = db.session.scalar(select(Invoice.id).where(Invoice.id == invoice_id,
                                                                *overdue()))
            if still is None:
                db.session.rollback()
                continue
            audit.record(Actor.system("webhooks"), "overdue", organizer_id=invoice.organizer_id,
                         event_id=invoice.event_id, invoice=invoice,
                         from_status=invoice.status, to_status=invoice.status,
                         data={"due_date": invoice.due_date.isoformat()})
            commit()
            told.append(invoice_id)
        except Exception:
            db.session.rollback()
            logger.exception("overdue sweep: invoice %s failed", invoice_id)
    return told


class _Every:
    """Run something at most every `seconds` in this process."""

    def __init__(self, seconds: float):
        self.seconds, self.last = seconds, None

    def due(self) -> bool:
        now = time.monotonic()
        if self.last is not None and now - self.last < self.seconds:
            return False
        self.last = now
        return True


_PURGE = _Every(3600)
_OVERDUE = _Every(3600)


def tick() -> None:
    """The periodic work: retry pickup every time; purge and overdue sweep hourly at most
    (each invoice is told overdue once, so the sweep may run as often as it likes)."""
    pickup()
    if _PURGE.due():
        purge()
    if _OVERDUE.due():
        sweep_overdue()
