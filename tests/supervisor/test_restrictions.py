"""A supervisor and an account's contact restrictions: do-not-visit windows
added and removed on the account page (reaching the phones, merged with a
phone's own), the jurisdiction changed, the dashboard's count of visits
inside a window, and the other person's relation on the visit page."""

from __future__ import annotations

from datetime import timedelta

from server.extensions import db
from server.models import Account
from tests.helpers import latest

from .conftest import csrf_token, iso, record_visit, taipei


def form_for(page, action_end: str):
    return [f for f in page.forms.values() if f.action.endswith(action_end)][0]


def windows(app, account_id):
    with app.app_context():
        return db.session.get(Account, account_id).do_not_visit


def add_window(sup, account_id, first, last, reason, first_time="", last_time=""):
    page = sup.get(f"/supervisor/accounts/{account_id}")
    form = form_for(page, "/do-not-visit")
    form["from_date"], form["from_time"] = first.isoformat(), first_time
    form["to_date"], form["to_time"] = last.isoformat(), last_time
    form["reason"] = reason
    return form.submit(status=302).follow()


def test_a_window_added_on_the_page_reaches_the_phone_on_the_accounts_clock(app, world, sup):
    account = world.accounts["A-1"]
    day = taipei(-3, 0).date()
    page = add_window(sup, account, day, day + timedelta(days=2), "Funeral in the family")
    assert "The period is saved." in page
    row = page.html.select_one("#do-not-visit tbody tr")
    # The whole of three days on the account's (Taipei) clock, shown on it.
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[0] == f"{day.isoformat()} 00:00"
    assert cells[1] == f"{(day + timedelta(days=3)).isoformat()} 00:00"
    assert cells[2].startswith("Funeral in the family")
    (window,) = windows(app, account)
    assert window["from"] == iso(taipei(-3, 0))
    data = latest(world.phone("alice").pull_all())[("account", account)]["data"]
    assert data["do_not_visit"] == [window]


def test_a_window_with_times_and_a_window_in_force_now(app, world, sup):
    account = world.accounts["A-1"]
    today = taipei(0, 0).date()
    page = add_window(sup, account, today - timedelta(days=1), today + timedelta(days=1),
                      "In hospital", "09:30", "18:00")
    row = page.html.select_one("#do-not-visit tbody tr")
    assert "in force now" in row.get_text()
    (window,) = windows(app, account)
    assert (window["from"], window["to"]) == (iso(taipei(1, 9, 30)), iso(taipei(-1, 18)))


def test_a_bad_window_is_refused_in_words(app, world, sup):
    account = world.accounts["A-1"]
    day = taipei(0, 0).date()
    page = add_window(sup, account, day, day, "Wedding", "18:00", "09:00")
    assert "The rules do not allow this change." in page
    assert "Period 1: from must be before to." in page
    assert windows(app, account) == []
    sup.set_cookie("fv_lang", "zh-Hant")
    page = add_window(sup, account, day, day, "婚禮", "18:00", "09:00")
    assert "第 1 個期間：開始時間必須早於結束時間。" in page


def test_removing_a_window_keeps_the_one_a_phone_added_meanwhile(app, world, sup):
    account = world.accounts["A-1"]
    day = taipei(-1, 0).date()
    add_window(sup, account, day, day, "Wedding")
    page = sup.get(f"/supervisor/accounts/{account}")  # the page as the supervisor sees it
    # Meanwhile alice's phone, which has seen the wedding, adds a funeral.
    alice = world.phone("alice")
    seen = latest(alice.pull_all())[("account", account)]
    wedding = seen["data"]["do_not_visit"][0]
    funeral = {"from": iso(taipei(-5, 0)), "to": iso(taipei(-6, 0)), "reason": "Funeral"}
    assert alice.write("account", account, {"do_not_visit": [wedding, funeral]},
                       seen["version"])["status"] == "applied"
    form_for(page, "/do-not-visit/remove").submit(status=302).follow()
    assert [w["reason"] for w in windows(app, account)] == ["Funeral"]
    # The same form again: nothing left to remove.
    answer = form_for(page, "/do-not-visit/remove").submit(status=302).follow()
    assert "This period was already removed." in answer


def test_the_jurisdiction_and_its_rules_on_the_account_page(app, world, sup):
    account = world.accounts["A-1"]
    page = sup.get(f"/supervisor/accounts/{account}")
    assert page.html.select_one("[data-testid=jurisdiction]").get_text(strip=True) == "Taiwan (TW)"
    text = page.html.select_one("#restrictions").get_text(" ", strip=True)
    assert "Visits from 08:00 to 21:00 on the account's clock; at most 5 attempts in 7 days" in text
    form = form_for(page, "/jurisdiction")
    form["code"] = "US"
    page = form.submit(status=302).follow()
    assert "The jurisdiction is saved." in page
    text = page.html.select_one("#restrictions").get_text(" ", strip=True)
    assert "United States (US)" in text
    assert "at most 7 attempts in 7 days, counting attempts on the same person of this debt" in text
    sup.set_cookie("fv_lang", "zh-Hant")
    page = sup.get(f"/supervisor/accounts/{account}")
    assert "美國 (US)" in page.html.select_one("[data-testid=jurisdiction]").get_text()
    assert "同一筆債務中對同一人的嘗試" in page


def test_the_dashboard_counts_visits_inside_a_window(app, world, sup):
    account = world.accounts["A-1"]
    day = taipei(1, 0).date()
    add_window(sup, account, day, day, "Funeral")
    alice = world.phone("alice")
    alice.pull_all()
    record_visit(alice, account, taipei(1, 10))
    record_visit(alice, account, taipei(2, 10))
    page = sup.get("/supervisor/")
    rows = {r.th.get_text(strip=True): r.td.get_text(strip=True)
            for r in page.html.select("table.compact tr") if r.th and r.td}
    assert rows["Inside a do-not-visit period"] == "1"
    link = page.html.find("a", string="1", href=lambda h: h and "inside_do_not_visit" in h)
    listed = sup.get(link["href"])
    assert len(listed.html.select("#visit-log tbody tr")) == 1


def test_the_visit_page_shows_the_relation_in_both_languages(app, world, sup):
    visit = record_visit(world.phone("alice"), world.accounts["A-1"], taipei(1, 10),
                         met="other_person", met_name="Mr Chen", met_relation="neighbour",
                         result="not_present")
    page = sup.get(f"/supervisor/visits/{visit}")
    fields = dict(zip([dt.get_text(strip=True) for dt in page.html.select("dl.fields dt")],
                      [dd.get_text(strip=True) for dd in page.html.select("dl.fields dd")],
                      strict=True))
    assert fields["Relation to the debtor"] == "A neighbour"
    sup.set_cookie("fv_lang", "zh-Hant")
    page = sup.get(f"/supervisor/visits/{visit}")
    assert "與債務人的關係" in page and "鄰居" in page


def test_the_page_asks_for_days_and_a_reason(app, world, sup):
    page = sup.get(f"/supervisor/accounts/{world.accounts['A-1']}")
    answer = sup.post(f"/supervisor/accounts/{world.accounts['A-1']}/do-not-visit",
                      {"csrf_token": csrf_token(page), "from_date": "", "reason": ""},
                      status=302).follow()
    assert "Give the first and last day and a reason." in answer
    assert windows(app, world.accounts["A-1"]) == []
