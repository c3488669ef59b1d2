"""The floor: the least a Flask + SQLAlchemy + Jinja app can do for the same answers.

Same database, same queries in spirit (the customer's invoices newest first, a page of an
event's invoices with their lines, one invoice with its lines, a stored PDF), no auth, no
security headers, no serializer. Every portal figure is reported as a ratio to this.
Run: DATABASE_URL=… gunicorn -w 2 bench.floor:app
"""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify, render_template_string, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=False)

LIST = """<!doctype html><title>Invoices</title><table>
{% for r in rows %}<tr><td>{{ r.number }}</td><td>{{ r.issue_date }}</td><td>{{ r.status }}</td>
<td>{{ r.gross_total }} {{ r.currency }}</td></tr>{% endfor %}</table>"""
DETAIL = """<!doctype html><title>{{ inv.number }}</title><h1>{{ inv.number }}</h1>
<table>{% for l in lines %}<tr><td>{{ l.description }}</td><td>{{ l.quantity }}</td>
<td>{{ l.unit_price }}</td><td>{{ l.gross_amount }}</td></tr>{% endfor %}</table>
<p>{{ inv.net_total }} {{ inv.tax_total }} {{ inv.gross_total }}</p>"""


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/customer/<int:customer_id>/invoices")
def customer_list(customer_id):
    limit = min(int(request.args.get("limit", 25)), 200)  # ?limit=50: the 50-row HTML
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, number, issue_date, status, gross_total, currency FROM invoices "
            "WHERE customer_id = :c AND status <> 'draft' ORDER BY id DESC LIMIT :n"),
            {"c": customer_id, "n": limit}).all()
    return render_template_string(LIST, rows=rows)


@app.get("/invoices/<int:invoice_id>")
def detail(invoice_id):
    with engine.connect() as conn:
        inv = conn.execute(text("SELECT * FROM invoices WHERE id = :i"), {"i": invoice_id}).first()
        lines = conn.execute(text("SELECT * FROM invoice_lines WHERE invoice_id = :i "
                                  "ORDER BY position"), {"i": invoice_id}).all()
    return render_template_string(DETAIL, inv=inv, lines=lines)


@app.get("/events/<int:event_id>/invoices")
def api_list(event_id):
    size = int(request.args.get("page_size", 50))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, number, status, issue_date, gross_total, net_total, tax_total "
            "FROM invoices WHERE event_id = :e ORDER BY id LIMIT :n"),
            {"e": event_id, "n": size}).mappings().all()
        ids = [r["id"] for r in rows]
        lines = conn.execute(text(
            "SELECT invoice_id, description, quantity, unit_price, gross_amount FROM "
            "invoice_lines WHERE invoice_id IN (SELECT id FROM invoices WHERE event_id = :e "
            "ORDER BY id LIMIT :n)"), {"e": event_id, "n": size}).mappings().all()
    by_invoice: dict[int, list] = {i: [] for i in ids}
    for line in lines:
        by_invoice[line["invoice_id"]].append({k: str(v) for k, v in line.items()})
    return jsonify({"count": len(rows), "results": [
        {**{k: str(v) for k, v in r.items()}, "lines": by_invoice[r["id"]]} for r in rows]})


@app.get("/events/<int:event_id>/page")
def organizer_list(event_id):
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, number, issue_date, status, gross_total, currency FROM invoices "
            "WHERE event_id = :e AND status = :s ORDER BY issue_date DESC, id DESC LIMIT 25"),
            {"e": event_id, "s": request.args.get("status", "paid")}).all()
    return render_template_string(LIST, rows=rows)


@app.get("/invoices/<int:invoice_id>.json")
def detail_json(invoice_id):
    with engine.connect() as conn:
        inv = conn.execute(text("SELECT * FROM invoices WHERE id = :i"),
                           {"i": invoice_id}).mappings().first()
        lines = conn.execute(text("SELECT * FROM invoice_lines WHERE invoice_id = :i "
                                  "ORDER BY position"), {"i": invoice_id}).mappings().all()
    return jsonify({**{k: str(v) for k, v in inv.items()},
                    "lines": [{k: str(v) for k, v in line.items()} for line in lines]})


@app.get("/pdf/<int:invoice_id>")
def pdf(invoice_id):
    with engine.connect() as conn:
        content = conn.execute(text("SELECT content FROM invoice_documents WHERE invoice_id = :i"),
                               {"i": invoice_id}).scalar_one()
    return Response(bytes(content), mimetype="application/pdf")
