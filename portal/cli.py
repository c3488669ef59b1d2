"""Operator commands: `flask --app portal …`. Each prints what it made; secrets once."""

from __future__ import annotations

import json
import secrets as pysecrets

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from . import db_setup, unit_of_work
from .errors import ValidationError
from .extensions import db
from .models import Event, Organizer, User


def _fail(error: ValidationError):
    lines = [f"  {field}: {'; '.join(msgs)}" for field, msgs in error.fields.items()]
    raise click.ClickException("\n".join([error.message, *lines]))


def _organizer(slug: str) -> Organizer:
    organizer = db.session.scalar(select(Organizer).where(Organizer.slug == slug))
    if organizer is None:
        raise click.ClickException(f"No organizer {slug!r}.")
    return organizer


def _events(organizer: Organizer, slugs) -> list[Event]:
    found = [e for e in organizer.events if e.slug in set(slugs)]
    missing = set(slugs) - {e.slug for e in found}
    if missing:
        raise click.ClickException(f"No event(s) {', '.join(sorted(missing))} in {organizer.slug}.")
    return found


def register_cli(app: Flask) -> None:
    from .services.audit import Actor
    from .services.customers import create_customer, magic_link
    from .services.organizers import (
        add_membership,
        create_event,
        create_organizer,
        create_user,
    )
    from .services.tokens import create_token

    actor = Actor.system("cli")

    @app.cli.command("create-organizer")
    @click.argument("slug")
    @click.argument("name")
    @unit_of_work.command
    def create_organizer_cmd(slug, name):
        """Create an organizer."""
        try:
            organizer = create_organizer(slug, name, actor=actor)
        except ValidationError as exc:
            _fail(exc)
        click.echo(f"Organizer {organizer.slug} ({organizer.name}) created, id {organizer.id}.")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", default="")
    @click.option("--password", default=None, help="Omit to generate one (printed once).")
    @unit_of_work.command
    def create_user_cmd(email, name, password):
        """Create a back-office user."""
        password = password or pysecrets.token_urlsafe(12)
        try:
            user = create_user(email, password, name=name)
        except ValidationError as exc:
            _fail(exc)
        click.echo(f"User {user.email} created. Password: {password}")

    @app.cli.command("create-membership")
    @click.argument("email")
    @click.argument("organizer")
    @click.argument("role", type=click.Choice(["owner", "manager", "viewer"]))
    @click.option("--event", "events", multiple=True, help="Limit to these event slugs.")
    @unit_of_work.command
    def create_membership_cmd(email, organizer, role, events):
        """Make a user a member of an organizer."""
        org = _organizer(organizer)
        user = db.session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            raise click.ClickException(f"No user {email!r}.")
        try:
            add_membership(user, org, role, events=_events(org, events), actor=actor)
        except ValidationError as exc:
            _fail(exc)
        scope = ", ".join(events) if events else "all events"
        click.echo(f"{user.email} is now {role} of {org.slug} ({scope}).")

    @app.cli.command("create-event")
    @click.argument("organizer")
    @click.argument("slug")
    @click.argument("name")
    @click.option("--currency", default="EUR")
    @click.option("--locale", default="en")
    @click.option("--prefix", default=None, help="Invoice number prefix, e.g. SC2026-.")
    @unit_of_work.command
    def create_event_cmd(organizer, slug, name, currency, locale, prefix):
        """Create an event of an organizer."""
        org = _organizer(organizer)
        settings = {"currency": currency, "locale": locale}
        if prefix:
            settings.update(invoice_prefix=prefix, proforma_prefix=f"{prefix}PF-",
                            shipping_prefix=f"{prefix}DN-")
        try:
            event = create_event(org, slug, name, actor=actor, **settings)
        except ValidationError as exc:
            _fail(exc)
        click.echo(f"Event {org.slug}/{event.slug} created ({event.currency}, "
                   f"numbers {event.invoice_prefix}00001).")

    @app.cli.command("create-token")
    @click.argument("organizer")
    @click.argument("name")
    @click.option("--read-only", is_flag=True)
    @click.option("--event", "events", multiple=True, help="Limit to these event slugs.")
    @unit_of_work.command
    def create_token_cmd(organizer, name, read_only, events):
        """Create an API token (printed once)."""
        org = _organizer(organizer)
        try:
            token, secret = create_token(org, name=name, read_only=read_only,
                                         events=_events(org, events), actor=actor)
        except ValidationError as exc:
            _fail(exc)
        click.echo(f"Token {token.name} ({'read-only' if read_only else 'read-write'}): {secret}")

    @app.cli.command("create-customer")
    @click.argument("organizer")
    @click.argument("reference")
    @click.option("--name", default="")
    @click.option("--email", default="")
    @click.option("--locale", default="en")
    @unit_of_work.command
    def create_customer_cmd(organizer, reference, name, email, locale):
        """Create a customer; prints its key and magic link once."""
        org = _organizer(organizer)
        try:
            customer, key = create_customer(
                org, {"reference": reference, "name": name, "email": email, "locale": locale},
                actor=actor)
        except ValidationError as exc:
            _fail(exc)
        click.echo(f"Customer {customer.reference} created.\nKey: {key}\n"
                   f"Magic link: {magic_link(key)}")

    @app.cli.command("demo")
    @click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
    @click.option("--if-empty", is_flag=True, help="Do nothing if the database has data.")
    @unit_of_work.command
    def demo_cmd(as_json, if_empty):
        """Load the demo organizer `bigevents` / `sampleconf` and print how to sign in.

        Run again, it keeps the data and hands out fresh credentials.
        """
        from .demo import load_demo

        if if_empty and db.session.scalar(select(func.count(Organizer.id))):
            click.echo("The database has data already; `flask --app portal demo` prints "
                       "fresh demo credentials.")
            return
        creds = load_demo()
        if as_json:
            click.echo(json.dumps(creds, indent=2))
            return
        click.echo(_describe(creds))

    @app.cli.command("compact-tallies")
    @click.option("--check", is_flag=True,
                  help="Then compare the kept counts with the invoices; exit 1 if they differ.")
    @unit_of_work.command
    def compact_tallies_cmd(check):
        """Fold the kept invoice counts into one row per event, status and type (issue 16).

        The job outbox runs this every TALLY_COMPACT_INTERVAL seconds; safe to run any time,
        also while invoices are written.
        """
        from .services.tallies import check_tallies, compact_tallies

        removed, written = compact_tallies()
        click.echo(f"Folded {removed} tally row(s) into {written}.")
        if check:
            wrong = check_tallies()
            for event_id, status, type_, kept, real in wrong:
                click.echo(f"Event {event_id}, {status} {type_}: kept {kept}, counted {real}.")
            if wrong:
                raise click.ClickException("The kept counts differ from the invoices.")
            click.echo("The kept counts agree with the invoices.")

    @app.cli.command("render-missing-pdfs")
    @click.option("--invoice", "invoice_ids", type=int, multiple=True,
                  help="Only these invoice ids (default: every closed invoice without one).")
    def render_missing_pdfs_cmd(invoice_ids):
        """Make the document of record of closed invoices that have none (e.g. a lost job).

        An invoice that has its PDF keeps it: this never changes an existing document.
        """
        from .models import Invoice
        from .services.documents import store_document_of_record

        query = select(Invoice.id).where(Invoice.status != "draft",
                                         Invoice.pdf_sha256.is_(None)).order_by(Invoice.id)
        if invoice_ids:
            query = query.where(Invoice.id.in_(invoice_ids))
        made = 0
        for invoice_id in db.session.scalars(query).all():
            document = store_document_of_record(invoice_id)
            if document is None:
                continue
            line = (f"Invoice {invoice_id}: stored {document.size} bytes, "
                    f"{document.pages} page(s), sha256 {document.sha256}.")
            unit_of_work.commit()  # each document its own unit of work, as in its job
            made += 1
            click.echo(line)
        click.echo(f"{made} PDF(s) made; existing documents were left as they are.")

    @app.cli.command("rebuild-representations")
    @click.option("--all", "everything", is_flag=True,
                  help="Rebuild every closed invoice's, not only missing or older ones.")
    @click.option("--batch", default=200, show_default=True, help="Invoices per commit.")
    def rebuild_representations_cmd(everything, batch):
        """Store the frozen representation of closed invoices that have none or an older
        version (services.frozen); until then they are read the slow way."""
        from .services import frozen

        total, after = 0, 0
        while after is not None:
            written, after = frozen.rebuild_batch(after, batch=batch, everything=everything)
            unit_of_work.commit()
            db.session.expunge_all()
            total += written
        click.echo(f"{total} representation(s) stored (version {frozen.FROZEN_VERSION}).")

    @app.cli.command("validate-einvoice")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def validate_einvoice_cmd(path):
        """Validate a Factur-X PDF (its factur-x.xml) or a CII/UBL XML file offline, with the
        rule files close uses (XSD + EN 16931 schematron). Exit status 1 on a fatal finding."""
        from .services.documents import pdfa, validate

        with open(path, "rb") as handle:
            data = handle.read()
        if data.startswith(b"%PDF"):
            data = pdfa.attachment(data)
            if data is None:
                raise click.ClickException("the PDF has no factur-x.xml attachment")
        findings = validate.validate(data)
        for finding in findings:
            click.echo(f"{'FATAL' if finding.fatal else 'warning'} {finding.rule}: "
                       f"{finding.message}")
        fatal = validate.fatal(findings)
        click.echo(f"{len(fatal)} fatal finding(s), {len(findings) - len(fatal)} warning(s).")
        if fatal:
            raise SystemExit(1)

    @app.cli.command("verify-ledger")
    @click.option("--organizer", "organizer_slug", default=None,
                  help="Only this organizer's events.")
    @click.option("--event", "event_slugs", multiple=True,
                  help="Only events with this slug (repeatable).")
    @click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
    def verify_ledger_cmd(organizer_slug, event_slugs, as_json):
        """Walk every number sequence: gaps, duplicates, altered documents, broken links.

        Exit status 1 on any finding, 0 when every checked ledger is intact.
        """
        from .services.ledger import verify

        with db_setup.reading():
            query = select(Event).order_by(Event.id)
            if organizer_slug:
                query = query.where(Event.organizer_id == _organizer(organizer_slug).id)
            if event_slugs:
                query = query.where(Event.slug.in_(event_slugs))
            events = list(db.session.scalars(query))
            if event_slugs and not events:
                raise click.ClickException(f"No event(s) {', '.join(event_slugs)}.")
            reports = verify(events)
        db.session.rollback()
        if as_json:
            click.echo(json.dumps(reports, indent=2, ensure_ascii=False))
        else:
            for report in reports:
                verdict = "intact" if report["ok"] else f"{len(report['findings'])} finding(s)"
                click.echo(f"{report['organizer']}/{report['event']}: {report['documents']} "
                           f"document(s), {verdict}")
                for finding in report["findings"]:
                    click.echo(f"  [{finding['kind']}] {finding['sequence']}"
                               f" {finding['number'] or ''}: {finding['message']}")
        if any(not report["ok"] for report in reports):
            raise SystemExit(1)


    @app.cli.command("jobs")
    @click.option("--limit", type=int, default=50, show_default=True,
                  help="At most this many jobs of each kind.")
    def jobs_cmd(limit):
        """List the background jobs that are pending, running, failed or were re-driven."""
        from .db_setup import reading
        from .formatting import format_age
        from .jobs import overview

        with reading():  # on SQLite: a look, not waiting for a worker's write transaction
            found = overview(limit=limit)
        for kind, views in found.items():
            click.echo(f"{kind} ({len(views)}{'+' if len(views) >= limit else ''}):")
            for view in views:
                line = (f"  #{view.id} {view.name}{tuple(view.args)!r} {view.state}, "
                        f"age {format_age(view.age)}, attempts {view.attempts}, "
                        f"re-driven {view.redriven}")
                if view.locked_until is not None and view.state == "running":
                    line += f", locked until {view.locked_until:%Y-%m-%d %H:%M:%S} UTC"
                if view.last_error:
                    line += f", last error: {view.last_error.splitlines()[0][:200]}"
                click.echo(line)
        db.session.rollback()


def _describe(creds: dict) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    lines = [
        f"Demo organizer {creds['organizer']}, event {creds['event']}.",
        f"Back office: {base}/login  as {creds['user']['email']} / {creds['user']['password']}",
        f"API token (read-write): {creds['token']}",
        "Customers:",
    ]
    for c in creds["customers"]:
        lines.append(f"  {c['reference']}: key {c['key']}\n      {c['magic_link']}")
    return "\n".join(lines)



