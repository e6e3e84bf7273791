"""Photos uploaded exactly once over a link that breaks every way it can
(bench/flaky_proxy.py: resets, requests lost before and answers lost after
the server acted, bodies cut in half), and across a ``kill -9`` of the
whole server in the middle of an upload. Real gunicorn, real database,
bytes on the file system under the deployment's instance/."""

from __future__ import annotations

import hashlib
import http.client
import random
import threading
import time
import uuid
from pathlib import Path

import pytest

from bench.flaky_proxy import FaultRates, FlakyProxy
from bench.load import flask_run

from ..attachments.support import jpeg_bytes
from .client import TRANSPORT_ERRORS, GaveUp, RetryPolicy, SyncClient

MIB = 1024 * 1024
PATIENT = RetryPolicy(attempts=80, base_s=0.05, cap_s=1.0, timeout_s=60)


class Uploader:
    """A phone's upload queue as js/uploads.js runs it: ask the status,
    send what is missing in chunks, start over from the status after any
    failure, with jittered backoff; bounded."""

    def __init__(self, phone: SyncClient, chunk: int = MIB, seed: int = 0):
        self.phone, self.chunk = phone, chunk
        self.rng = random.Random(seed)
        self.requests = 0
        self.failures = 0
        self.answers: dict[int, int] = {}

    def _exchange(self, method: str, path: str, body: bytes | None = None,
                  headers: dict | None = None) -> tuple[int, bytes]:
        host, port = self.phone.base_url.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=PATIENT.timeout_s)
        self.requests += 1
        try:
            conn.request(method, path, body, {"Authorization": f"Bearer {self.phone.token}",
                                              "Connection": "close", **(headers or {})})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        self.answers[response.status] = self.answers.get(response.status, 0) + 1
        return response.status, data

    def status(self, attachment_id: str) -> dict:
        import json

        for attempt in range(PATIENT.attempts):
            try:
                code, data = self._exchange("GET", f"/api/v1/attachments/{attachment_id}/content/status")
            except TRANSPORT_ERRORS:
                self.failures += 1
                time.sleep(PATIENT.pause(attempt, self.rng))
                continue
            if code == 200:
                return json.loads(data)
            if code >= 500 or code == 429:
                time.sleep(PATIENT.pause(attempt, self.rng))
                continue
            raise AssertionError(f"status {attachment_id}: {code} {data[:200]!r}")
        raise GaveUp(f"status {attachment_id}")

    def upload(self, attachment_id: str, data: bytes, on_chunk=None) -> None:
        import json

        for attempt in range(PATIENT.attempts):
            state = self.status(attachment_id)
            if state["uploaded"]:
                return
            try:
                for first, last in state["missing"]:
                    for at in range(first, last + 1, self.chunk):
                        end = min(last, at + self.chunk - 1)
                        code, body = self._exchange(
                            "PUT", f"/api/v1/attachments/{attachment_id}/content", data[at:end + 1],
                            {"Content-Range": f"bytes {at}-{end}/{len(data)}",
                             "Content-Type": "application/octet-stream"})
                        if code != 200:
                            raise AssertionError(f"PUT {attachment_id}: {code} {body[:200]!r}")
                        if on_chunk:
                            on_chunk()
                        if json.loads(body)["uploaded"]:
                            return
            except TRANSPORT_ERRORS:
                self.failures += 1
                time.sleep(PATIENT.pause(attempt, self.rng))
        raise GaveUp(f"upload {attachment_id}")


def attachment_mutation(phone: SyncClient, visit_id: str, data: bytes) -> dict:
    seq = phone.next_seq
    phone.next_seq += 1
    return {"seq": seq, "hlc": f"{int(time.time() * 1000):013d}:{seq % 0x10000:04x}:{phone.client_id}",
            "entity": "attachment", "id": str(uuid.uuid4()), "base_version": 0,
            "fields": {"visit_id": visit_id, "kind": "photo", "content_type": "image/jpeg",
                       "byte_size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                       "taken_at": "2026-12-01T10:00:00+08:00", "lat": 25.04, "lon": 121.51,
                       "accuracy_m": 10.0}}


def record_photos(phone: SyncClient, sizes: list[int], per_visit: int = 5) -> dict[str, bytes]:
    """Visits with photos in the phone's outbox, as a collector makes them offline."""
    accounts = phone.account_ids()
    photos: dict[str, bytes] = {}
    visit = None
    for i, size in enumerate(sizes):
        if i % per_visit == 0:
            visit = phone.record_visits(accounts, 1)[0]
        data = jpeg_bytes(size, seed=i)
        mutation = attachment_mutation(phone, visit["id"], data)
        phone.outbox.append(mutation)
        photos[mutation["id"]] = data
    return photos


def blob_root(deployment) -> Path:
    return deployment.workdir / "instance" / "attachments"


def assert_each_uploaded_once_and_whole(deployment, photos: dict[str, bytes]) -> None:
    database, root = deployment.database, blob_root(deployment)
    rows = database.rows("SELECT id, uploaded, version, sha256 FROM attachments")
    assert len(rows) == len(photos)
    for attachment_id, uploaded, version, digest in rows:
        assert bool(uploaded) and version == 2, (attachment_id, uploaded, version)
        stored = (root / "objects" / attachment_id).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == digest == hashlib.sha256(photos[attachment_id]).hexdigest()
    # "uploaded" written once per attachment, by the write layer.
    assert database.scalar("SELECT count(*) FROM history WHERE entity = 'attachment' "
                           "AND reason = 'Content received and verified'") == len(photos)
    # Nothing half-written or left over.
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "parts").iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_twenty_photos_over_a_flaky_link_are_uploaded_exactly_once(deploy, backend):
    deployment = deploy(backend, ["snapper"], accounts_per_user=2)
    rates = FaultRates(reset=0.04, drop_request=0.06, cut_body=0.08, drop_response=0.1,
                       delay=0.2, delay_max_s=0.1)
    with FlakyProxy(deployment.server.port, rates, seed=12, lifetime_s=900) as proxy:
        phone = SyncClient(proxy.url, "snapper", seed=3, policy=PATIENT)
        rng = random.Random(5)
        photos = record_photos(phone, [rng.randint(MIB, 4 * MIB) for _ in range(20)])
        phone.push_all(25)
        uploader = Uploader(phone, seed=4)
        for attachment_id, data in photos.items():
            uploader.upload(attachment_id, data)
        # Every status says so, and a late duplicate chunk changes nothing.
        for attachment_id in photos:
            assert uploader.status(attachment_id)["uploaded"] is True
    faults = {k: v for k, v in proxy.stats.items() if k not in ("pass", "delay")}
    assert faults.get("drop_response", 0) > 0 and faults.get("cut_body", 0) > 0, proxy.stats
    assert_each_uploaded_once_and_whole(deployment, photos)
    assert deployment.tracebacks() == []
    audit = deployment.audit_verify()
    assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill_9_in_the_middle_of_an_upload_then_it_resumes(deploy, backend):
    deployment = deploy(backend, ["shutter"], accounts_per_user=1)
    phone = SyncClient(deployment.url, "shutter", seed=1, policy=PATIENT)
    photos = record_photos(phone, [4 * MIB, 3 * MIB])
    phone.push_all(25)
    root = blob_root(deployment)
    (first_id, first), (second_id, second) = photos.items()
    uploader = Uploader(phone, chunk=128 * 1024, seed=2)
    errors: list[BaseException] = []
    sent = threading.Event()
    chunks = {"n": 0}

    def count():
        chunks["n"] += 1
        if chunks["n"] >= 6:
            sent.set()

    def run():
        try:
            uploader.upload(first_id, first, on_chunk=count)
            uploader.upload(second_id, second)
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert sent.wait(120), "no chunk arrived"
    deployment.server.kill()
    held = sorted((root / "parts" / first_id).iterdir()) if (root / "parts" / first_id).exists() else []
    assert held, "the server held none of the upload when it was killed"
    deployment.restart()
    thread.join(timeout=240)
    assert not thread.is_alive() and not errors, errors
    assert uploader.failures > 0, "the kill did not interrupt the upload"
    # Whatever the kill left (a temporary file half written), the sweep
    # removes: at once here, since the server is stopped first.
    deployment.server.stop()
    done = flask_run(deployment.env, "attachments", "purge", "--temp-age", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_each_uploaded_once_and_whole(deployment, photos)
    assert deployment.tracebacks() == []
