"""Operator commands and the demo loader."""

import json

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from portal.extensions import db
from portal.models import Customer, Invoice, User
from portal.services.customers import customer_for_key
from portal.services.tokens import token_for_secret


def test_demo_json_prints_working_credentials_and_every_type_and_status(runner):
    result = runner.invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    creds = json.loads(result.output)
    assert set(creds) == {"organizer", "event", "user", "token", "customers"}
    assert (creds["organizer"], creds["event"]) == ("bigevents", "sampleconf")
    user = db.session.scalar(select(User).where(User.email == creds["user"]["email"]))
    assert check_password_hash(user.password_hash, creds["user"]["password"])
    token = token_for_secret(creds["token"])
    assert token is not None and not token.read_only
    for entry in creds["customers"]:
        customer = customer_for_key(entry["key"])
        assert customer is not None and customer.reference == entry["reference"]
        assert entry["magic_link"].endswith(f"/my/access/{entry['key']}")
    kinds = set(db.session.execute(select(Invoice.type, Invoice.status)).all())
    assert {t for t, _ in kinds} == {"invoice", "proforma", "shipping_invoice", "credit_note"}
    assert {s for _, s in kinds} == {"draft", "open", "sent", "paid", "disputed", "cancelled",
                                     "archived"}


def test_demo_again_keeps_data_and_hands_out_fresh_credentials(runner):
    first = json.loads(runner.invoke(args=["demo", "--json"]).output)
    count = db.session.scalar(select(func.count(Invoice.id)))
    second = json.loads(runner.invoke(args=["demo", "--json"]).output)
    assert db.session.scalar(select(func.count(Invoice.id))) == count
    assert token_for_secret(first["token"]) is None
    assert token_for_secret(second["token"]) is not None
    assert customer_for_key(first["customers"][0]["key"]) is None
    assert customer_for_key(second["customers"][0]["key"]) is not None


def test_demo_if_empty_leaves_a_used_database_alone(runner, make):
    make.organizer()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and "has data already" in result.output
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_create_commands_print_what_they_made_and_secrets_once(runner):
    out = runner.invoke(args=["create-organizer", "acme", "Acme Events"])
    assert out.exit_code == 0 and "acme" in out.output
    out = runner.invoke(args=["create-event", "acme", "fest", "Fest 2026", "--currency", "JPY",
                              "--prefix", "F26-"])
    assert out.exit_code == 0 and "F26-00001" in out.output
    out = runner.invoke(args=["create-user", "ann@acme.example", "--password", "a-long-password"])
    assert out.exit_code == 0 and "a-long-password" in out.output
    out = runner.invoke(args=["create-membership", "ann@acme.example", "acme", "manager",
                              "--event", "fest"])
    assert out.exit_code == 0 and "manager of acme (fest)" in out.output
    out = runner.invoke(args=["create-token", "acme", "shop", "--read-only"])
    secret = out.output.rsplit(": ", 1)[1].strip()
    assert token_for_secret(secret).read_only
    out = runner.invoke(args=["create-customer", "acme", "C-9", "--email", "c9@example.com"])
    key = out.output.split("Key: ", 1)[1].split()[0]
    assert customer_for_key(key).reference == "C-9"


def test_bad_cli_input_is_a_clear_error(runner):
    out = runner.invoke(args=["create-organizer", "Not A Slug", "X"])
    assert out.exit_code != 0 and "slug" in out.output
    out = runner.invoke(args=["create-event", "missing", "x", "X"])
    assert out.exit_code != 0 and "No organizer 'missing'" in out.output


def test_a_demo_invoice_pdf_validates_with_the_same_rule_files(runner, tmp_path):
    """SPEC §11 "done when": download a closed demo invoice's PDF, open its attachment and
    validate it offline with the rule files close uses."""
    from portal.services import documents

    assert runner.invoke(args=["demo", "--json"]).exit_code == 0
    invoice = db.session.scalar(select(Invoice).where(
        Invoice.type == "invoice", Invoice.status == "paid").order_by(Invoice.id))
    document = documents.ensure_document(invoice)
    assert document.cii is not None and documents.pdfa.attachment(document.content) == \
        document.cii
    pdf = tmp_path / "demo.pdf"
    pdf.write_bytes(document.content)
    result = runner.invoke(args=["validate-einvoice", str(pdf)])
    assert result.exit_code == 0, result.output
    assert "0 fatal finding(s)" in result.output
    broken = tmp_path / "broken.xml"
    broken.write_bytes(document.ubl.replace(b">S</cbc:ID>", b">X</cbc:ID>", 1))
    result = runner.invoke(args=["validate-einvoice", str(broken)])
    assert result.exit_code == 1 and "FATAL BR-CL-1" in result.output
