"""A supervisor corrects a done visit from its page, with a reason, through
the write layer; the trail shows each field's value before and after, who,
when and why; done stays done; the phone receives the trail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import HistoryEntry, Visit

from .conftest import record_visit, taipei


def amend_form(sup, visit_id):
    page = sup.get(f"/supervisor/visits/{visit_id}")
    return page, [f for f in page.forms.values() if f.action.endswith("/amend")][0]


def history_rows(app, visit_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(HistoryEntry)
                                 .where(HistoryEntry.record_id == visit_id))


@pytest.fixture
def done(world):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(1, 10), notes="Owner out")
    return alice, visit_id


def test_the_form_shows_the_visit_as_recorded_without_its_status(sup, done):
    _alice, visit_id = done
    page, form = amend_form(sup, visit_id)
    assert form["result"].value == "refused" and form["met"].value == "original_contact"
    assert form["notes"].value == "Owner out"
    assert form["arrived_at"].value == taipei(1, 10).strftime("%Y-%m-%dT%H:%M")
    assert "status" not in form.fields  # done stays done
    assert "This visit has not been amended." in page


def test_a_correction_with_a_reason_is_an_amendment_seen_on_the_page_and_the_phone(app, sup, done):
    alice, visit_id = done
    _page, form = amend_form(sup, visit_id)
    form["result"] = "dispute"
    form["arrived_at"] = taipei(1, 10, 20).strftime("%Y-%m-%dT%H:%M")  # Taipei wall clock
    form["reason"] = "The collector's call log says 10:20"
    answer = form.submit(status=302).follow()
    assert "Correction saved." in answer
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.result == "dispute" and visit.status == "done"
        assert visit.arrived_at == taipei(1, 10, 20).astimezone(UTC)
        assert visit.amendment_reason == "The collector's call log says 10:20"
    trail = answer.html.select_one("[data-testid=amendment-trail]")
    text = trail.get_text(" ", strip=True)
    assert "The collector's call log says 10:20" in text and "Sup" in text
    rows = {r.th.get_text(strip=True): [td.get_text(strip=True) for td in r.select("td")]
            for r in trail.select("tbody tr")}
    assert rows["Result"] == ["Refused to pay", "Disputes the debt"]
    assert rows["Arrived"] == [taipei(1, 10).strftime("%Y-%m-%d %H:%M"),
                               taipei(1, 10, 20).strftime("%Y-%m-%d %H:%M")]
    pulled = [c for c in alice.pull_all() if c["id"] == visit_id][-1]["data"]
    [amendment] = pulled["amendments"]
    assert amendment["by"]["role"] == "supervisor"
    assert {c["field"] for c in amendment["changes"]} >= {"result", "arrived_at"}


@pytest.mark.parametrize(("edit", "said"), [
    ({"notes": "Paid later", "reason": "  \u200b "}, "Say why the visit is corrected"),
    ({"reason": "nothing changed though"}, "Nothing was changed."),
    ({"promise_amount": "a lot", "reason": "typo on site"}, "Promised amount: enter an amount"),
    ({"waited_minutes": "-5", "reason": "typo on site"}, "Minutes waited: enter a whole number"),
    ({"result": "promise_to_pay", "reason": "typo on site"},
     "A promise to pay needs an amount greater than 0."),
])
def test_a_correction_the_rules_refuse_writes_nothing_and_says_why(app, sup, done, edit, said):
    _alice, visit_id = done
    before = history_rows(app, visit_id)
    _page, form = amend_form(sup, visit_id)
    for name, value in edit.items():
        form[name] = value
    answer = form.submit(status=302).follow()
    assert said in answer, answer.html.select_one("main").get_text(" ", strip=True)[:600]
    assert history_rows(app, visit_id) == before


def test_a_status_sent_by_hand_is_never_read(app, sup, done):
    _alice, visit_id = done
    page, _form = amend_form(sup, visit_id)
    token = page.html.find("input", {"name": "csrf_token"})["value"]
    answer = sup.post(f"/supervisor/visits/{visit_id}/amend",
                      {"csrf_token": token, "status": "cancelled", "reason": "undo it",
                       "version": "1"}, status=302).follow()
    assert "Nothing was changed." in answer
    with app.app_context():
        assert db.session.get(Visit, visit_id).status == "done"


def test_a_page_opened_before_another_change_is_refused(app, sup, done):
    alice, visit_id = done
    _page, form = amend_form(sup, visit_id)
    assert alice.write("visit", visit_id, {"notes": "Owner back", "amendment_reason": "phone fix"},
                       1)["status"] == "applied"
    form["notes"] = "Owner away"
    form["reason"] = "per call log"
    answer = form.submit(status=302).follow()
    assert "The visit has changed since the page was opened." in answer
    with app.app_context():
        assert db.session.get(Visit, visit_id).notes == "Owner back"


def test_a_planned_visit_has_no_correction_form(sup, world):
    alice = world.phone("alice")
    visit_id = "7d4c2b1e-0000-4000-8000-000000000001"
    alice.write("visit", visit_id, {"account_id": world.accounts["A-1"],
                                    "scheduled_at": datetime.now(UTC).isoformat()})
    page = sup.get(f"/supervisor/visits/{visit_id}")
    assert not [f for f in page.forms.values() if f.action.endswith("/amend")]


def test_a_redone_check_in_keeps_the_earlier_one_on_the_page(sup, world):
    alice = world.phone("alice")
    visit_id = "7d4c2b1e-0000-4000-8000-000000000002"
    alice.write("visit", visit_id, {"account_id": world.accounts["A-1"],
                                    "scheduled_at": taipei(0, 10).isoformat()})
    alice.write("visit", visit_id, {"arrived_at": taipei(0, 10).isoformat(), "checkin_lat": 25.094,
                                    "checkin_lon": 121.51, "checkin_accuracy_m": 900.0,
                                    "checkin_fix_age_s": 40}, 1)
    alice.write("visit", visit_id, {"checkin_lat": 25.0401, "checkin_lon": 121.5101,
                                    "checkin_accuracy_m": 8.0, "checkin_fix_age_s": 2}, 2)
    page = sup.get(f"/supervisor/visits/{visit_id}")
    table = page.html.select_one("[data-testid=checkins]")
    assert table is not None and "Check-ins (2)" in page
    rows = [r.get_text(" ", strip=True) for r in table.select("tbody tr")]
    assert "±900 m" in rows[0] and "fix 40 s old" in rows[0]
    assert "±8 m" in rows[1] and "fix 2 s old" in rows[1]
    assert "position fixed 2 s before the check-in" in page
