"""The dashboard's numbers and its chart."""

from __future__ import annotations

from .conftest import iso, new_id, record_visit, taipei


def test_today_per_collector_flags_promises_and_aging(world, sup):
    alice, bob = world.phone("alice"), world.phone("bob")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(0, 10),
                            checkin_lat=25.05, checkin_lon=121.51)  # about 1.1 km away
    alice.write("payment", new_id(), {
        "account_id": world.accounts["A-1"], "visit_id": visit_id, "amount": 30000,
        "method": "cash", "collected_at": iso(taipei(0, 10, 15))})
    alice.write("visit", new_id(), {"account_id": world.accounts["A-2"], "status": "planned",
                                    "scheduled_at": iso(taipei(0, 14))})
    # A promise that fell due without payment: broken.
    record_visit(bob, world.accounts["A-4"], taipei(8, 10), result="promise_to_pay",
                 promise_amount=10000, promise_date=taipei(6, 12).date().isoformat(),
                 checkin_lat=25.043, checkin_lon=121.513)

    page = sup.get("/supervisor/")
    rows = {row.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in row.select("td")]
            for row in page.html.select("section.panel")[0].select("tbody tr")}
    assert rows["Alice"] == ["2", "1", "1", "1", "Refused to pay 1", "NT$300"]
    assert rows["Bob"] == ["0", "0", "0", "0", "—", "—"]

    flags = {row.th.get_text(strip=True): row.td.get_text(strip=True)
             for row in page.html.select("section.panel")[1].select("tbody tr")}
    assert flags["Checked in far from the address"] == "1" and flags["Arrived late"] == "0"

    promises = page.html.select("section.panel")[2].get_text(" ", strip=True)
    assert "0%" in promises and "(0 kept, 1 broken)" in promises

    chart = page.html.select_one("svg.chart")
    assert len(chart.select("rect.bar")) == 8
    labels = [t.get_text() for t in chart.select("text.chart-label")]
    assert labels[0] == "Not yet overdue" and labels[-1] == "Over 720 days"
    values = [t.get_text() for t in chart.select("text.chart-value")]
    assert "NT$300,000 · 6 acc." in values  # the six test accounts fell due on the same day
    table = page.html.select_one("details table").get_text(" ", strip=True)
    assert "NT$300,000" in table


def test_the_dashboard_in_chinese(world, sup):
    page = sup.get("/supervisor/", headers={"Accept-Language": "zh-Hant-TW"})
    text = page.html.get_text(" ", strip=True)
    for words in ("今日催收員", "近 7 天規則警示", "未結案件帳齡", "總覽", "登出"):
        assert words in text
    assert "Collectors today" not in text
