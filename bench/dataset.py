"""Build a benchmark data set fast: bulk Core inserts, not the HTTP API.

Figures come from the real money engine (a handful of invoice templates computed once), so the
pages and the API show genuine totals. Secrets are derived from indices so the load driver can
sign in as any customer; they are bench-only and never used outside a bench database.

The shape of the invoices (how many, their lines and amounts) is a `Shape`: `build` takes its
lines as `templates=[shape.template]`, and `build_closed` makes a shape's invoices through the
portal's own services (create a draft, close it), so everything close stores is there as in
production. `PRETIX_SHAPE` is the data set of the pretix peer (bench/pretix.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from decimal import Decimal

from sqlalchemy import delete, insert, select, text, update
from werkzeug.security import generate_password_hash

from portal.domain import money
from portal.extensions import db
from portal.models import (
    ApiToken,
    Customer,
    Event,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    Membership,
    NumberSequence,
    Organizer,
    User,
)

BENCH_TOKEN = "pt_bench_" + "t" * 40
BENCH_PASSWORD = "bench-password-123"
BENCH_EMAIL = "owner@bench.example"
ORGANIZER = "benchorg"
CLOSING_EVENT = "closing"
BATCH = 5000


def customer_key(i: int) -> str:
    return f"ck_bench_{i:08d}_" + hashlib.sha256(str(i).encode()).hexdigest()[:24]


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


TEMPLATES = [
    # (lines: (sku, description, qty, price, rate)), rule, gross entry
    ([("TKT", "Conference ticket", "1", "399.00", "19.00"), ("WS", "Workshop", "1", "149.00", "19.00"),
      ("DIN", "Dinner", "1", "59.00", "7.00"), ("BK", "Book", "2", "24.90", "7.00"),
      ("SH", "Shirt", "3", "56.33", "19.00")], "per_line", False),
    ([("TKT", "Early bird", "2", "299.00", "19.00"), ("PK", "Parking", "3", "12.50", "19.00"),
      ("LU", "Lunch", "2", "18.90", "7.00"), ("CAP", "Cap", "1", "15.00", "19.00"),
      ("MUG", "Mug", "4", "9.99", "19.00")], "per_item", False),
    ([("VIP", "VIP ticket", "1", "999.00", "8.00"), ("TR", "Transfer", "2", "45.00", "8.00"),
      ("HT", "Hotel night", "3", "129.00", "8.00"), ("SP", "Spa", "1", "79.00", "20.00"),
      ("GF", "Gift", "1", "35.50", "20.00")], "total", True),
]


@dataclasses.dataclass(frozen=True)
class Shape:
    """The invoices of a data set: how many, and each one's lines and amounts.

    `lines` are one invoice's lines as (sku, description, quantity, unit price, tax rate), all
    strings as the API takes them; `prices_include_tax` says whether the unit prices are gross.
    Each invoice has `lines_per_invoice` of them (the first ones; fewer than given is fine).
    """

    invoices: int
    lines: tuple[tuple[str, str, str, str, str], ...]
    lines_per_invoice: int | None = None
    prices_include_tax: bool = False
    rounding_rule: str = "per_line"
    customers: int = 20
    organizer: str = ORGANIZER
    event: str = "e0"
    invoice_prefix: str = "E0-"
    einvoicing: bool = True  # the event makes CII/UBL at close (build_closed)

    def __post_init__(self):
        if self.invoices < 0 or not self.lines:
            raise ValueError("a shape needs a count >= 0 and at least one line")
        if self.lines_per_invoice is not None and not 1 <= self.lines_per_invoice <= len(
                self.lines):
            raise ValueError(f"lines_per_invoice must be between 1 and {len(self.lines)}")

    @property
    def invoice_lines(self) -> tuple[tuple[str, str, str, str, str], ...]:
        return self.lines[:self.lines_per_invoice or len(self.lines)]

    @property
    def template(self):
        """The shape as one of `TEMPLATES` (for `build(templates=[...])`)."""
        return list(self.invoice_lines), self.rounding_rule, self.prices_include_tax

    def totals(self) -> money.InvoiceTotals:
        """One invoice's totals, from the money engine."""
        return _compute(self.template)


# pretix's seed (../shared/peers/pretix/seed.py): one ticket at 23.00 gross, 19 % VAT
# (19.33 net + 3.67 tax), one line per invoice, numbers like SAMPLECONF-00001; no e-invoice
# XML, as pretix makes none.
PRETIX_SHAPE = Shape(invoices=1000, lines=(("TKT", "Conference ticket", "1", "23.00", "19.00"),),
                     prices_include_tax=True, customers=20, organizer="bigevents",
                     event="sampleconf", invoice_prefix="SAMPLECONF-", einvoicing=False)


def _compute(template):
    lines, rule, gross = template
    inv = money.InvoiceInput(
        currency="EUR", rule=money.RoundingRule(rule), prices_include_tax=gross,
        lines=[money.LineInput(quantity=Decimal(q), unit_price=Decimal(p), tax_rate=Decimal(r),
                               tax_code="VAT") for _, _, q, p, r in lines])
    return money.compute_invoice(inv)


def build(invoices: int, events: int, customers: int, lines_per_invoice: int = 5,
          drafts_to_close: int = 3000, seed: int = 7, *, templates=None) -> dict:
    """Fill an empty (migrated) database; returns what the load driver needs to know.

    `templates` (default `TEMPLATES`): the invoices' lines and amounts, taken in turn, e.g.
    `[shape.template]` for one `Shape`."""
    templates = TEMPLATES if templates is None else templates
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    conn = db.session.connection()
    org_id = conn.execute(insert(Organizer).values(
        slug=ORGANIZER, name="Bench Org", created_at=now,
        seller={"company": "Bench Org GmbH", "street1": "Main 1", "city": "Berlin",
                "postal_code": "10115", "country": "DE", "vat_id": "DE1"}
    ).returning(Organizer.id)).scalar_one()
    user_id = conn.execute(insert(User).values(
        email=BENCH_EMAIL, name="Bench Owner", password_hash=generate_password_hash(BENCH_PASSWORD),
        locale="en", active=True, session_version=1, created_at=now).returning(User.id)).scalar_one()
    conn.execute(insert(Membership).values(user_id=user_id, organizer_id=org_id, role="owner",
                                           all_events=True))
    conn.execute(insert(ApiToken).values(organizer_id=org_id, name="bench",
                                         token_hash=_sha(BENCH_TOKEN), token_prefix=BENCH_TOKEN[:10],
                                         read_only=False, all_events=True, active=True,
                                         created_at=now))
    event_ids = []
    for e in range(events):
        event_ids.append(conn.execute(insert(Event).values(
            organizer_id=org_id, slug=f"e{e}", name=f"Event {e}", currency="EUR", locale="en",
            invoice_prefix=f"E{e}-", proforma_prefix=f"E{e}-PF-", shipping_prefix=f"E{e}-DN-",
            due_days=14, introductory_text="", additional_text="", payment_text="",
            footer_text="", terms_text="", seller_override={}, created_at=now,
        ).returning(Event.id)).scalar_one())
    closing_id = conn.execute(insert(Event).values(
        organizer_id=org_id, slug=CLOSING_EVENT, name="Closing", currency="EUR", locale="en",
        invoice_prefix="CL-", proforma_prefix="CL-PF-", shipping_prefix="CL-DN-", due_days=14,
        introductory_text="", additional_text="", payment_text="", footer_text="",
        terms_text="", seller_override={}, created_at=now).returning(Event.id)).scalar_one()

    _bulk(conn, Customer, ({
        "organizer_id": org_id, "reference": f"C-{i:06d}", "name": f"Customer {i}",
        "email": f"c{i}@bench.example", "locale": "en", "key_hash": _sha(customer_key(i)),
        "key_version": 1, "key_rotated_at": now, "created_at": now,
        "billing_address": {"company": f"Buyer {i} Ltd", "first_name": "Pat",
                            "last_name": f"Buyer{i}", "street1": "1 High St", "city": "London",
                            "postal_code": "N1", "country": "GB", "email": f"c{i}@bench.example"},
    } for i in range(customers)))
    customer_ids = [r[0] for r in conn.execute(
        select(Customer.id).where(Customer.organizer_id == org_id).order_by(Customer.id))]

    # Each invoice has the first `lines_per_invoice` lines of its template, and its totals are
    # those of exactly these lines.
    templates = [(lines[:lines_per_invoice], rule, gross) for lines, rule, gross in templates]
    computed = [(_compute(t), t) for t in templates]
    statuses = ["open"] * 3 + ["sent"] * 3 + ["paid"] * 3 + ["archived"]
    counters = dict.fromkeys(event_ids, 0)
    today = dt.date.today()
    invoice_rows = []
    for n in range(invoices):
        event_id = event_ids[n % events]
        totals, template = computed[n % len(computed)]
        counters[event_id] += 1
        issue = today - dt.timedelta(days=rng.randint(0, 700))
        invoice_rows.append({
            "organizer_id": org_id, "event_id": event_id,
            "customer_id": customer_ids[rng.randrange(len(customer_ids))],
            "order_code": f"O{n:07d}", "type": "invoice", "status": rng.choice(statuses),
            "number": f"E{event_ids.index(event_id)}-{counters[event_id]:05d}",
            "sequence_value": counters[event_id], "is_cancellation": False,
            "issue_date": issue, "due_date": issue + dt.timedelta(days=14),
            "seller": {"company": "Bench Org GmbH", "city": "Berlin", "country": "DE"},
            "billing_address": {"company": "Buyer Ltd", "first_name": "Pat", "last_name": "Buyer",
                                "city": "London", "country": "GB"},
            "currency": "EUR", "prices_include_tax": template[2], "rounding_mode": "half_up",
            "rounding_rule": template[1], "discounts_include_tax": False, "locale": "en",
            "introductory_text": "", "additional_text": "", "payment_text": "",
            "footer_text": "", "terms_text": "",
            "prediscount_net": totals.prediscount.net, "prediscount_gross": totals.prediscount.gross,
            "discount_total": Decimal(0), "subtotal_net": totals.subtotal.net,
            "subtotal_gross": totals.subtotal.gross, "net_total": totals.total.net,
            "tax_total": totals.total.tax, "gross_total": totals.total.gross,
            "total_quantity": totals.quantity, "total_weight": totals.weight,
            "created_at": now, "updated_at": now, "closed_at": now,
        })
    _bulk(conn, Invoice, invoice_rows)
    for event_id, last in counters.items():
        conn.execute(insert(NumberSequence).values(event_id=event_id, name="invoice",
                                                   last_value=last))
        for name in ("proforma", "shipping_invoice"):
            conn.execute(insert(NumberSequence).values(event_id=event_id, name=name,
                                                       last_value=0))
    for name in ("invoice", "proforma", "shipping_invoice"):
        conn.execute(insert(NumberSequence).values(event_id=closing_id, name=name, last_value=0))

    ids = [r[0] for r in conn.execute(select(Invoice.id).where(Invoice.organizer_id == org_id)
                                      .order_by(Invoice.id))]

    def line_rows():
        for k, invoice_id in enumerate(ids):
            totals, template = computed[k % len(computed)]
            for pos, ((sku, desc, qty, price, rate), result) in enumerate(
                    zip(template[0], totals.lines, strict=True), start=1):
                yield {"invoice_id": invoice_id, "position": pos, "sku": sku,
                       "description": desc, "quantity": Decimal(qty), "unit": "H87",
                       "unit_price": Decimal(price), "tax_code": "VAT", "tax_rate": Decimal(rate),
                       "request_note": "", "net_amount": result.net, "tax_amount": result.tax,
                       "gross_amount": result.gross}

    _bulk(conn, InvoiceLine, line_rows())
    _bulk(conn, InvoiceTax, (
        {"invoice_id": invoice_id, "position": pos, "code": g.code, "rate": g.rate,
         "taxable": g.net, "amount": g.tax, "gross": g.gross}
        for k, invoice_id in enumerate(ids)
        for pos, g in enumerate(computed[k % len(computed)][0].groups, start=1)))

    # Drafts for the closing scenario, in their own event.
    totals, template = computed[0]
    _bulk(conn, Invoice, ({
        **invoice_rows[0], "event_id": closing_id, "status": "draft", "number": None,
        "sequence_value": None, "issue_date": None, "due_date": None, "closed_at": None,
        "order_code": f"D{n:06d}", "customer_id": customer_ids[n % len(customer_ids)],
    } for n in range(drafts_to_close)))
    draft_ids = [r[0] for r in conn.execute(select(Invoice.id).where(
        Invoice.event_id == closing_id).order_by(Invoice.id))]
    _bulk(conn, InvoiceLine, (
        {"invoice_id": invoice_id, "position": pos, "sku": sku, "description": desc,
         "quantity": Decimal(qty), "unit": "H87", "unit_price": Decimal(price),
         "tax_code": "VAT", "tax_rate": Decimal(rate), "request_note": "",
         "net_amount": r.net, "tax_amount": r.tax, "gross_amount": r.gross}
        for invoice_id in draft_ids
        for pos, ((sku, desc, qty, price, rate), r) in enumerate(
            zip(template[0], totals.lines, strict=True), start=1)))
    _bulk(conn, InvoiceTax, (
        {"invoice_id": invoice_id, "position": pos, "code": g.code, "rate": g.rate,
         "taxable": g.net, "amount": g.tax, "gross": g.gross}
        for invoice_id in draft_ids for pos, g in enumerate(totals.groups, start=1)))
    db.session.commit()
    freeze_all()
    # PostgreSQL's autovacuum gathers statistics by itself; do it now rather than wait. An
    # embedded SQLite database never has any (nobody runs ANALYZE), so the bench leaves it
    # without, and the indexes must give good plans regardless.
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    # A customer with a typical number of invoices, and one invoice of theirs.
    busiest = db.session.execute(text(
        "SELECT customer_id, count(*) AS n FROM invoices WHERE organizer_id = :o "
        "AND status <> 'draft' GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 1"),
        {"o": org_id}).first()
    customer_index = customer_ids.index(busiest.customer_id)
    sample_invoice = db.session.scalar(select(Invoice.id).where(
        Invoice.customer_id == busiest.customer_id, Invoice.status != "draft")
        .order_by(Invoice.id.desc()))
    return {"organizer": ORGANIZER, "event": "e0", "event_ids": event_ids,
            "customer_key": customer_key(customer_index), "customer_id": busiest.customer_id,
            "customer_invoices": busiest.n, "invoice_id": sample_invoice,
            "event0_invoice_id": ids[0], "draft_ids": draft_ids, "closing_event": CLOSING_EVENT,
            "token": BENCH_TOKEN, "email": BENCH_EMAIL, "password": BENCH_PASSWORD}


SELLER = {"legal_name": "Big Events LLC", "company": "Big Events", "street1": "Demo Street 12",
          "city": "Berlin", "postal_code": "10115", "country": "DE", "vat_id": "DE123456789",
          "email": "billing@bigevents.example"}


def build_closed(shape: Shape, *, read_only_token: bool = True, commit_every: int = 200) -> dict:
    """Make `shape`'s invoices in an empty (migrated) database through the portal's services:
    organizer, event, customers and a token as the back office makes them, then per invoice a
    draft with the shape's lines, closed (numbered, frozen, its document job queued). The
    document jobs are not run here: the caller stores the PDFs it needs (`store_pdfs`) and
    `drop_pending_jobs` forgets the others, so no server renders during a benchmark.

    Returns what the load driver needs: slugs, the token, a customer's key with many
    invoices, the invoice ids in closing order and the first invoice's number."""
    from portal.services import customers as customer_service
    from portal.services import invoices as invoice_service
    from portal.services import organizers as org_service
    from portal.services import tokens as token_service
    from portal.services.audit import Actor

    actor = Actor.system("bench")
    organizer = org_service.create_organizer(shape.organizer, "Big Events", seller=SELLER,
                                             actor=actor)
    event = org_service.create_event(
        organizer, shape.event, "Sample Conference", actor=actor,
        invoice_prefix=shape.invoice_prefix, proforma_prefix=shape.invoice_prefix + "PF-",
        shipping_prefix=shape.invoice_prefix + "DN-", currency="EUR", locale="en", due_days=14,
        einvoicing=shape.einvoicing)
    user = org_service.create_user(BENCH_EMAIL, BENCH_PASSWORD, name="Bench Owner")
    org_service.add_membership(user, organizer, "owner", actor=actor)
    _token, secret = token_service.create_token(organizer, name="bench",
                                                read_only=read_only_token, actor=actor)
    keys, references, customer_ids = [], [], []
    for i in range(max(shape.customers, 1)):
        reference = f"C-{i:06d}"
        customer, key = customer_service.create_customer(organizer, {
            "reference": reference, "name": f"Customer {i}", "email": f"c{i}@bench.example",
            "locale": "en", "billing_address": {
                "company": f"Buyer {i} Ltd", "first_name": "Pat", "last_name": f"Buyer{i}",
                "street1": "1 High St", "city": "London", "postal_code": "N1", "country": "GB",
                "email": f"c{i}@bench.example", "is_corporate": True}}, actor=actor)
        keys.append(key)
        references.append(reference)
        customer_ids.append(customer.id)
    db.session.commit()
    lines = [{"sku": sku, "description": description, "quantity": quantity, "unit": "C62",
              "unit_price": price, "tax_rate": rate, "tax_code": "VAT"}
             for sku, description, quantity, price, rate in shape.invoice_lines]
    ids, event_id = [], event.id
    for n in range(shape.invoices):
        draft = invoice_service.create_draft(event, {
            "customer": references[n % len(references)], "lines": lines,
            "prices_include_tax": shape.prices_include_tax,
            "rounding": {"rule": shape.rounding_rule}}, actor=actor)
        invoice_service.close_invoice(draft, actor=actor)
        ids.append(draft.id)
        if (n + 1) % commit_every == 0:
            db.session.commit()
            db.session.expunge_all()
            event = db.session.get(Event, event_id)
    db.session.commit()
    first_number = db.session.scalar(select(Invoice.number).where(Invoice.id == ids[0])) \
        if ids else None
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return {"organizer": shape.organizer, "event": shape.event, "event_id": event_id,
            "invoice_ids": ids, "first_number": first_number, "token": secret,
            "customer_key": keys[0], "customer_id": customer_ids[0],
            "customer_invoices": len(range(0, shape.invoices, len(references))),
            "email": BENCH_EMAIL, "password": BENCH_PASSWORD}


def freeze_all(batch: int = 1000) -> int:
    """Store the frozen representation of every closed invoice the bulk inserts made, as
    close would have (portal/services/frozen.py), through the same code as
    `flask rebuild-representations`: the bench reads closed invoices the way they are read
    in production. About 1 ms an invoice."""
    from portal.services import frozen

    total, after = 0, 0
    while after is not None:
        written, after = frozen.rebuild_batch(after, batch=batch)
        db.session.commit()
        db.session.expunge_all()
        total += written
    return total


def drop_pending_jobs() -> int:
    """Forget the queued jobs (the document jobs of `build_closed`): a bench database only."""
    from portal.models.job import Job
    deleted = db.session.execute(delete(Job).where(Job.state == "pending")).rowcount
    db.session.commit()
    return deleted


def _bulk(conn, model, rows) -> None:
    batch = []
    table = model.__table__
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)


def store_pdfs(invoice_ids: list[int]) -> int:
    """Make real documents of record for some invoices through the documents service."""
    from portal.services import documents
    made = 0
    for invoice_id in invoice_ids:
        documents.store_document_of_record(invoice_id)
        db.session.commit()
        made += 1
    return made


__all__ = ["PRETIX_SHAPE", "Shape", "build", "build_closed", "drop_pending_jobs", "store_pdfs",
           "customer_key", "update"]
