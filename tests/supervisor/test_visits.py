"""The visit log (filters, sorting, pages) and one visit in full; its
exports are tested in test_exports.py."""

from __future__ import annotations

import pytest

from .conftest import record_visit, taipei


@pytest.fixture
def log(world, sup):
    """Visits recorded by the phones: alice's two, bob's promise, a plan."""
    alice, bob = world.phone("alice"), world.phone("bob")
    acc = world.accounts
    ids = {
        "plain": record_visit(alice, acc["A-1"], taipei(3, 10)),
        "far": record_visit(alice, acc["A-2"], taipei(2, 15), met="other_person",
                            met_name="Clerk", checkin_lat=25.050, checkin_lon=121.511),
        "promise": record_visit(bob, acc["A-4"], taipei(1, 10), result="promise_to_pay",
                                promise_amount=100000, checkin_lat=25.043, checkin_lon=121.513,
                                promise_date=taipei(-3, 12).date().isoformat()),
    }
    plan_id = "7f0e0f4e-8f00-4c1e-9f00-000000000001"
    assert alice.write("visit", plan_id, {"account_id": acc["A-3"], "status": "planned",
                                          "scheduled_at": taipei(0, 14).isoformat()}
                       )["status"] == "applied"
    ids["plan"] = plan_id
    return {"ids": ids, "alice": alice, "bob": bob, "world": world}


def html_ids(web, params, app=None) -> list[str]:
    """The visit ids the log lists for ``params``, over every page."""
    ids, page = [], 1
    while True:
        response = web.get("/supervisor/visits", {**params, "page": page})
        ids += [row["data-visit"] for row in response.html.select("tr[data-visit]")]
        if not response.html.select('a[rel="next"]'):
            return ids
        page += 1


def test_each_row_shows_time_collector_account_met_result_and_flags(log, sup):
    page = sup.get("/supervisor/visits")
    row = page.html.select_one(f'tr[data-visit="{log["ids"]["far"]}"]')
    text = row.get_text(" ", strip=True)
    assert taipei(2, 15).strftime("%Y-%m-%d 15:00") in text
    assert "Alice" in text and "A-2" in text and "Shop 2" in text
    assert "Someone else" in text and "(Clerk)" in text and "Refused" in text
    assert "Checked in far from the address" in text and "Did not meet the original contact" in text


FILTERS = [
    {},
    {"collector": "alice"},
    {"flag": "far_from_site"},
    {"flag": "any"},
    {"result": "promise_to_pay"},
    {"status": "planned"},
    {"date_from": "D2", "date_to": "D1"},
    {"collector": "alice", "date_from": "D2", "sort": "account", "order": "asc"},
    {"sort": "result"},
    {"sort": "collector", "order": "asc"},
]


def test_sorting_orders_the_rows(log, sup):
    ids = log["ids"]
    newest_first = html_ids(sup, {})
    assert newest_first == [ids["plan"], ids["promise"], ids["far"], ids["plain"]]
    assert html_ids(sup, {"order": "asc"}) == list(reversed(newest_first))
    by_account = html_ids(sup, {"sort": "account", "order": "asc"})
    assert by_account == [ids["plain"], ids["far"], ids["plan"], ids["promise"]]


def test_bad_filter_values_are_ignored_and_named(log, sup):
    page = sup.get("/supervisor/visits", {"date_from": "yesterday", "flag": "nonsense"})
    assert "were not understood" in page
    assert len(page.html.select("tr[data-visit]")) == 4


def test_one_visit_in_full(log, sup):
    alice = log["alice"]
    visit_id = log["ids"]["far"]
    amended = alice.write("visit", visit_id, {"result": "dispute",
                                              "amendment_reason": "Customer disputes the invoice"},
                          base_version=1)
    assert amended["status"] == "applied", amended
    page = sup.get(f"/supervisor/visits/{visit_id}")
    text = page.html.get_text(" ", strip=True)
    # Every field, in words.
    for expected in ("Name of the person met", "Clerk", "Disputes the debt", "Conduct rules confirmed",
                     "GPS accuracy (m)", "Checked in far from the address"):
        assert expected in text
    # Check-in against the account's position (A-2 is at 25.041, 121.511).
    assert "m from the account's position" in text
    distance = int(page.html.select_one("p.warn-text strong").get_text().split()[0])
    assert 990 <= distance <= 1010
    assert page.html.select_one("svg.minimap circle.checkin") is not None
    # History: both versions, with author and device.
    rows = page.html.select("table.history tbody tr")
    assert len(rows) == 2
    assert "Alice" in rows[0].get_text() and alice.client_id[:8] in rows[0].get_text()
    assert "amended" in rows[1]["class"]
    # The amendment and its reason.
    amendments = page.html.select_one("ol.amendments").get_text(" ", strip=True)
    assert "Version 2" in amendments and "Customer disputes the invoice" in amendments
    # ...and what it changed, from what to what.
    assert "Result Refused to pay Disputes the debt" in amendments


def test_a_visit_without_position_says_so(log, sup):
    page = sup.get(f"/supervisor/visits/{log['ids']['plan']}")
    assert "No check-in position was recorded." in page
