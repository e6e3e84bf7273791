"""Promise status: kept, broken, pending — by the account's wall clock."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.rules.promises import promise_status

TAIPEI = ZoneInfo("Asia/Taipei")
MADE = datetime(2026, 11, 20, 10, 0, tzinfo=TAIPEI)
DUE = date(2026, 11, 25)


def status(payments, now, tz_name="Asia/Taipei", amount=50_000, made_at=MADE):
    return promise_status(amount, DUE, tz_name, payments, now, made_at)


def test_pending_until_the_day_has_passed_locally():
    assert status([], datetime(2026, 11, 25, 23, 59, 59, tzinfo=TAIPEI)) == "pending"
    assert status([], datetime(2026, 11, 26, 0, 0, tzinfo=TAIPEI)) == "broken"


def test_paid_in_full_on_the_promised_date_is_kept():
    paid = [(datetime(2026, 11, 25, 23, 59, tzinfo=TAIPEI), 50_000)]
    assert status(paid, datetime(2026, 12, 1, tzinfo=UTC)) == "kept"


def test_paid_in_instalments_reaching_the_amount_is_kept_as_soon_as_reached():
    paid = [(datetime(2026, 11, 21, 9, 0, tzinfo=TAIPEI), 20_000),
            (datetime(2026, 11, 23, 9, 0, tzinfo=TAIPEI), 30_000)]
    assert status(paid, datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)) == "kept"
    assert status(paid[:1], datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)) == "pending"


def test_paid_one_day_late_is_broken():
    late = [(datetime(2026, 11, 26, 9, 0, tzinfo=TAIPEI), 50_000)]
    assert status(late, datetime(2026, 11, 27, tzinfo=TAIPEI)) == "broken"


def test_partial_payment_by_the_date_is_broken_after_it():
    partial = [(datetime(2026, 11, 24, 9, 0, tzinfo=TAIPEI), 49_999)]
    assert status(partial, datetime(2026, 11, 24, 10, 0, tzinfo=TAIPEI)) == "pending"
    assert status(partial, datetime(2026, 11, 26, 10, 0, tzinfo=TAIPEI)) == "broken"


def test_payments_before_the_promise_do_not_count():
    before = [(MADE - timedelta(seconds=1), 50_000)]
    assert status(before, datetime(2026, 11, 30, tzinfo=TAIPEI)) == "broken"
    at_made = [(MADE, 50_000)]
    assert status(at_made, datetime(2026, 11, 30, tzinfo=TAIPEI)) == "kept"


def test_deadline_is_the_end_of_the_day_in_the_accounts_zone():
    # 2026-11-26 03:00 UTC is Nov 26 11:00 in Taipei but Nov 25 22:00 in New York.
    paid = [(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), 50_000)]
    now = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    assert status(paid, now, "Asia/Taipei") == "broken"
    assert status(paid, now, "America/New_York") == "kept"
    assert status([], now, "America/New_York") == "pending"


def test_deadline_across_new_york_fall_back():
    # Promise due 2026-11-01, the day New York leaves summer time: that day is 25 hours
    # long and ends at 05:00 UTC on Nov 2 (midnight EST), not 04:00 UTC.
    made = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    paid = [(datetime(2026, 11, 2, 4, 30, tzinfo=UTC), 10)]  # 23:30 EST on Nov 1
    assert promise_status(10, date(2026, 11, 1), "America/New_York", paid,
                          datetime(2026, 11, 3, tzinfo=UTC), made) == "kept"
    assert promise_status(10, date(2026, 11, 1), "America/New_York", [],
                          datetime(2026, 11, 2, 4, 30, tzinfo=UTC), made) == "pending"
    assert promise_status(10, date(2026, 11, 1), "America/New_York", [],
                          datetime(2026, 11, 2, 5, 0, tzinfo=UTC), made) == "broken"
