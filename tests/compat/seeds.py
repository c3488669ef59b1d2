"""The example answers of the four seed documents (/work/shared/seeds), transcribed as JSON:
what a client written from each document expects, key by key and type by type.

Open2b's example carries comments and `…`; here they are dropped and one element kept per
list. OM's "text" placeholders stand for strings.
"""

from __future__ import annotations

import json

PRETIX_INVOICE = json.loads("""{
  "invoice_no": "00001", "order": "ABC12", "is_cancellation": false,
  "invoice_from": "Big Events LLC\\nDemo street 12\\nDemo town",
  "invoice_to": "Sample company\\nJohn Doe\\nTest street 12\\n12345 Testington\\nTestikistan\\nVAT ID: EU123456789",
  "date": "2017-12-01", "refers": null, "locale": "en",
  "introductory_text": "thank you for your purchase of the following items:",
  "additional_text": "We are looking forward to see you on our conference!",
  "payment_provider_text": "Please transfer the money to our account ABC…",
  "footer_text": "Big Events LLC - Registration No. 123456 - VAT ID: EU0987654321",
  "lines": [{"description": "Budget Ticket", "gross_value": "23.00", "tax_value": "0.00",
             "tax_rate": "0.00"}]
}""")
PRETIX_LIST = {"count": 1, "next": None, "previous": None, "results": [PRETIX_INVOICE]}

AKINON_INVOICE = json.loads("""{
  "id": 2, "invoice_type": "purchased", "status": "waiting",
  "channel": {"id": 2, "channel_type": "channel", "created_date": "2019-03-20T13:20:08.657659Z",
              "modified_date": "2019-03-20T13:20:08.657691Z", "omnitron_id": 3, "name": "name",
              "configuration": {}, "is_active": false},
  "address": {"pk": 3, "email": "email", "phone_number": "05000000000",
              "first_name": "first_name", "last_name": "last_name", "country": 1, "city": 2,
              "line": "line", "title": "title", "township": 2, "district": null, "postcode": "",
              "notes": null, "company_name": null, "tax_office": null, "tax_no": null,
              "e_bill_taxpayer": false, "is_corporate": false},
  "invoiceitem_set": [{"id": 2, "created_date": "2019-03-20T13:20:08.747792Z",
                       "modified_date": "2019-03-20T13:20:08.747821Z", "tax_rate": "8.00",
                       "tax_amount": "29.56", "discount_rate": "0.00",
                       "discount_amount": "0.00", "interest_rate": "0.00",
                       "interest_amount": null, "total_amount": "399.00",
                       "net_amount": "399.00", "order_item": 2}],
  "order": {"id": 2,
            "state": {"id": 25, "next_states": [], "previous_states": [],
                      "created_date": "2019-03-20T13:20:08.201990Z",
                      "modified_date": "2019-03-20T13:20:08.202020Z", "name": "Waiting",
                      "config": {}, "enum_class": "OrderStatus", "enum_value": "100",
                      "content_type": 17},
            "payment_type": null, "created_date": "2019-03-20T13:20:08.684840Z",
            "modified_date": "2019-03-20T13:20:08.684867Z", "omnitron_id": 32797,
            "number": "378321346010117487", "date_placed": "2018-11-07T14:45:29Z",
            "channel": 2, "customer": 2, "shipping_address": 4, "billing_address": 3},
  "package_number": "PCK_200_1", "created_date": "2019-03-20T13:20:08.741964Z",
  "modified_date": "2019-03-20T13:20:08.741992Z", "number": "9222609107"
}""")
AKINON_LIST = {"count": 2, "next": None, "previous": None, "results": [AKINON_INVOICE]}

OPEN2B_INVOICE = json.loads("""{
  "id": 662705500, "type": "Proforma", "number": "2020/3918", "status": "Sent",
  "issueDate": "2020-08-12", "dueDate": "2020-09-12", "shippingTime": "2020-09-12 10:22:54",
  "referenceType": "Order", "referenceNumber": "2020/30991",
  "rounding": {"mode": "HalfUp", "rule": "PerItem"}, "locale": "en-GB",
  "items": [{"sku": "A927TP", "name": "Shirt", "quantity": 3.00,
             "prices": {"price": 56.330, "totalPrice": 168.99, "taxedPrice": 56.330,
                        "taxedTotalPrice": 168.99},
             "tax": {"code": "VAT", "rate": 19.00, "amount": 112.66},
             "weight": 0.450, "requests": "..."}],
  "prediscountSubtotal": 69.54, "taxedPrediscountSubtotal": 110.89,
  "discounts": [{"type": "PercentOff", "value": 20.000}],
  "discountsIncludeTaxes": false, "subtotal": 69.54, "taxedSubtotal": 110.89,
  "shippingMethod": {"name": "FedEx", "cost": 8.57},
  "paymentMethod": {"name": "Credit Card", "cost": 1.20},
  "taxes": [{"code": "VAT", "name": "Generic", "rate": 19.00, "taxableTotal": 89.23,
             "amount": 31.25}],
  "taxAmount": 31.25, "total": 89.23, "taxedTotal": 120.48, "quantity": 7.00,
  "weight": 1.351, "customerName": "Investigations Inc",
  "billingAddress": {"firstName": "Sherlock", "lastName": "Holmes", "personalCode": "SH239IBA",
                     "companyName": "Investigations Inc", "companyCode": "INV8403MC1",
                     "companyCode2": "7J BA3 006", "street1": "221b Baker Street",
                     "street2": "", "city": "London", "postalCode": "NW1 6XE",
                     "stateProv": "LND", "country": "GB", "phoneNumber": "+44+207 2243688",
                     "mobileNumber": "", "faxNumber": "", "email": "holmes@inv-london.com"},
  "shippingAddress": {"name": "John", "street1": "221b Baker Street", "street2": "",
                      "city": "London", "postalCode": "NW1 6XE", "stateProv": "LND",
                      "country": "GB"},
  "sellerAddress": {"companyName": "Investigations Inc", "companyCode": "INV8403MC1",
                    "personalCode": "SH239IBA", "street1": "221b Baker Street", "street2": "",
                    "city": "London", "postalCode": "NW1 6XE", "stateProv": "LND",
                    "country": "GB", "phoneNumber": "+44+207 2243688", "mobileNumber": "",
                    "faxNumber": "", "email": "holmes@inv-london.com"},
  "numberOfPackages": 1, "porto": "Franco", "goodsAppearance": "Five cardboard boxes",
  "trackingNumber": "rt-5pl7f-fg", "transportReason": "Order shipment", "terms": ""
}""")
OPEN2B_ANSWER = {"status": "ok", "invoices": [OPEN2B_INVOICE], "count": 15}


def om_answer(data: dict) -> dict:
    return {"app": "text", "service": "text", "warnings": [{}], "instanceId": "text",
            "requestId": "text", "data": data}


OM_CREATE = om_answer({"id": "text"})
OM_DELETE = om_answer({"succeed": True})
OM_PATCH = om_answer({"success": True})
OM_CLOSE = om_answer({"invoiceNumber": 1, "invoiceSource": "text", "invoicedAt": "text"})
OM_SEND = om_answer({"success": True, "messageId": "text"})


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array"}[type(value)]


def same_shape(ours, seed, path: str = "$") -> list[str]:
    """Where `ours` differs from the seed's example: a missing or extra key, or another JSON
    type. Null stands in for any value (the seed's "null where the portal has no value");
    a list is checked element by element against the seed's first element."""
    if ours is None or seed is None:
        return []
    if _kind(ours) != _kind(seed):
        return [f"{path}: {_kind(ours)} where the seed has {_kind(seed)}"]
    problems = []
    if isinstance(seed, dict) and seed:  # {} in the seed: an object of its own keys
        if set(ours) != set(seed):
            problems.append(f"{path}: keys {sorted(set(ours) ^ set(seed))} differ")
        for key in set(ours) & set(seed):
            problems += same_shape(ours[key], seed[key], f"{path}.{key}")
    if isinstance(seed, list) and seed and seed[0] != {}:
        for i, item in enumerate(ours):
            problems += same_shape(item, seed[0], f"{path}[{i}]")
    return problems
