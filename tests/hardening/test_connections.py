"""A phone sending its push over a slow link holds no database connection
while its body arrives: the token is checked first and its connection goes
back to the pool before the body is read. Otherwise a few slow phones would
take every connection of the pool and stop everybody's sync."""

from __future__ import annotations

import io
import json
import uuid

from server.extensions import db


def test_a_push_body_is_read_with_no_database_connection_held(app, world):
    token = world.login("alice").json["token"]
    held_while_reading: list[bool] = []

    class SlowBody(io.BytesIO):
        def read(self, *args):
            held_while_reading.append(db.session().in_transaction())
            return super().read(*args)

        def readinto(self, buffer):
            held_while_reading.append(db.session().in_transaction())
            return super().readinto(buffer)

    client_id = str(uuid.uuid4())
    visit_id = str(uuid.uuid4())
    body = json.dumps({"client_id": client_id, "mutations": [{
        "seq": 1, "hlc": f"{1_700_000_000_000:013d}:0001:{client_id}", "entity": "visit",
        "id": visit_id, "base_version": 0, "fields": {
            "account_id": world.accounts["A-1"], "status": "planned",
            "scheduled_at": "2030-01-05T10:00:00+08:00"}}]}).encode()
    answer = app.test_client().post(
        "/api/v1/sync/push", input_stream=SlowBody(body), content_length=len(body),
        content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.json
    assert answer.json["results"][0]["status"] == "applied"
    assert held_while_reading and not any(held_while_reading)
