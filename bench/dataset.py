"""Build a benchmark data set fast: bulk Core inserts, not the HTTP API.

Figures come from the real money engine (a handful of invoice templates computed once), so the
pages and the API show genuine totals. Secrets are derived from indices so the load driver can
sign in as any customer; they are bench-only and never used outside a bench database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal

from sqlalchemy import insert, select, text, update
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


def _compute(template):
    lines, rule, gross = template
    inv = money.InvoiceInput(
        currency="EUR", rule=money.RoundingRule(rule), prices_include_tax=gross,
        lines=[money.LineInput(quantity=Decimal(q), unit_price=Decimal(p), tax_rate=Decimal(r),
                               tax_code="VAT") for _, _, q, p, r in lines])
    return money.compute_invoice(inv)


def build(invoices: int, events: int, customers: int, lines_per_invoice: int = 5,
          drafts_to_close: int = 3000, seed: int = 7) -> dict:
    """Fill an empty (migrated) database; returns what the load driver needs to know."""
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

    computed = [(_compute(t), t) for t in TEMPLATES]
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
                    zip(template[0][:lines_per_invoice], totals.lines, strict=False), start=1):
                yield {"invoice_id": invoice_id, "position": pos, "sku": sku,
                       "description": desc, "quantity": Decimal(qty), "unit": "pcs",
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
         "quantity": Decimal(qty), "unit": "pcs", "unit_price": Decimal(price),
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


__all__ = ["build", "store_pdfs", "customer_key", "update"]
