"""Refused mutations, and payments confirmed or rejected by a supervisor."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Payment, Promise

from .conftest import csrf_token, iso, new_id, record_visit, taipei


def test_refused_changes_show_what_who_and_why(world, sup):
    alice = world.phone("alice")
    outside = alice.write("visit", new_id(), {"account_id": world.accounts["A-4"]})  # bob's
    assert outside["status"] == "rejected"
    settle = alice.write("account", world.accounts["A-1"], {"status": "settled"}, base_version=1)
    assert settle["status"] == "rejected"
    page = sup.get("/supervisor/rejected")
    rows = page.html.select("table.rejected tbody tr")
    assert len(rows) == 2
    newest, oldest = (r.get_text(" ", strip=True) for r in rows)
    assert "Alice" in newest and "device 1, change 2" in newest
    assert "Status" in newest and "Settled" in newest and "may not write" in newest
    assert "No account with this id is assigned to you." in oldest
    # Filter by the sender.
    mine = page.click(linkid=None, href=f"user={world.users['alice']}", index=0)
    assert len(mine.html.select("table.rejected tbody tr")) == 2


def _payment(world, phone, visit_id, amount):
    payment_id = new_id()
    result = phone.write("payment", payment_id, {
        "account_id": world.accounts["A-1"], "visit_id": visit_id, "amount": amount,
        "method": "cash", "collected_at": iso(taipei(0, 10, 20))})
    assert result["status"] == "applied", result
    return payment_id


def _review_form(page, payment_id):
    return [f for f in page.forms.values() if f.action.endswith(f"/payments/{payment_id}/review")][0]


def test_confirming_a_payment_keeps_the_promise_and_reaches_the_phone(world, sup, app):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(0, 10), result="promise_to_pay",
                            promise_amount=50000, promise_date=taipei(-5, 12).date().isoformat())
    payment_id = _payment(world, alice, visit_id, 50000)
    alice.pull_all()

    page = sup.get("/supervisor/payments")
    row = page.html.select_one(f"#payment-{payment_id}").get_text(" ", strip=True)
    assert "NT$500" in row and "Alice" in row and "A-1" in row and "Cash" in row
    assert "Payments 1" in " ".join(page.html.select_one("nav.main-nav").get_text().split())
    assert "Pending 1" in " ".join(page.html.select_one("p.tabs").get_text().split())

    _review_form(page, payment_id).submit("confirm", status=302).follow()
    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "confirmed"
        assert db.session.scalar(select(Promise.status)) == "kept"
    changes = {(c["entity"], c["id"]): c for c in alice.pull_all()}
    assert changes[("payment", payment_id)]["data"]["status"] == "confirmed"
    assert [c["data"]["status"] for (e, _), c in changes.items() if e == "promise"] == ["kept"]
    kept = sup.get("/supervisor/payments", {"promises": "kept"})
    assert "A-1" in kept.html.select("table")[1].get_text()
    assert "No payment is waiting." in kept


def test_rejecting_a_payment_needs_a_reason_which_is_stored(world, sup, app):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(0, 10), result="paid_partial")
    payment_id = _payment(world, alice, visit_id, 12345)
    page = sup.get("/supervisor/payments")
    answer = _review_form(page, payment_id).submit("reject", status=302).follow()
    assert "Say why the payment is rejected." in answer
    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "recorded"
    form = _review_form(answer, payment_id)
    form["note"] = "No cash in the safe for this receipt"
    done = form.submit("reject", status=302).follow()
    assert "Payment rejected." in done
    assert "No cash in the safe for this receipt" in done.html.select("table")[-1].get_text()
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.status == "rejected" and payment.review_note.startswith("No cash")
    # Already reviewed: a second decision is refused.
    again = sup.post(f"/supervisor/payments/{payment_id}/review",
                     {"csrf_token": csrf_token(page), "confirm": "1"}, status=302).follow()
    assert "already been reviewed" in again
    changes = {(c["entity"], c["id"]): c for c in alice.pull_all()}
    assert changes[("payment", payment_id)]["data"]["review_note"].startswith("No cash")
