"""A phone's sync client, as a careful client author writes one for a bad
network: an outbox that is only trimmed by the server's ``last_seq``, the
same batch with the same seqs re-sent until an answer arrives, exponential
backoff with full jitter, bounded attempts, resume at ``expected_seq`` on
409, and pulls that resume from the last cursor that was answered."""

from __future__ import annotations

import http.client
import random
import time
import uuid
from dataclasses import dataclass, field

from bench.load import PASSWORD, call, visit_mutation

# What a flaky link or a crashed server looks like from the client's side.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class GaveUp(RuntimeError):
    """The retry budget ran out: a test failure, never an endless loop."""


class DataLoss(RuntimeError):
    """The server expects a mutation the outbox no longer holds."""


@dataclass
class RetryPolicy:
    attempts: int = 80
    base_s: float = 0.05
    cap_s: float = 2.0
    timeout_s: float = 30.0

    def pause(self, attempt: int, rng: random.Random) -> float:
        # Full jitter: phones that failed together do not retry together.
        return rng.uniform(0, min(self.cap_s, self.base_s * 2 ** attempt))


@dataclass
class SyncClient:
    base_url: str
    username: str
    password: str = PASSWORD
    seed: int = 0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.token: str | None = None
        self.outbox: list[dict] = []
        self.next_seq = 1
        self.last_seq = 0            # as last confirmed by the server
        self.cursor: str | None = None
        self.state: dict[tuple[str, str], int] = {}  # (entity, id) -> version
        self.transport_failures = 0
        self.in_flight: str | None = None  # the path of the request on the wire, if any
        self.answers: dict[int, int] = {}  # HTTP status -> count

    # --- transport -----------------------------------------------------

    def request(self, method: str, path: str, body=None, auth: bool = True):
        """(status, data) of the first real answer; transport failures, 5xx
        and 429 are retried with backoff, 401 by logging in again."""
        for attempt in range(self.policy.attempts):
            if auth and self.token is None:
                self.login()
            self.in_flight = path
            try:
                status, data = call(self.base_url, method, path, body,
                                    self.token if auth else None, timeout=self.policy.timeout_s)
            except TRANSPORT_ERRORS:
                self.in_flight = None
                self.transport_failures += 1
                time.sleep(self.policy.pause(attempt, self.rng))
                continue
            self.in_flight = None
            self.answers[status] = self.answers.get(status, 0) + 1
            if status >= 500 or status == 429 or data is None:
                time.sleep(self.policy.pause(attempt, self.rng))
                continue
            if status == 401 and auth:
                self.token = None
                continue
            return status, data
        raise GaveUp(f"{method} {path}: no answer after {self.policy.attempts} attempts")

    def login(self) -> None:
        status, data = self.request("POST", "/api/v1/auth/login",
                                    {"username": self.username, "password": self.password},
                                    auth=False)
        if status != 200:
            raise AssertionError(f"login {self.username}: {status} {data}")
        self.token = data["token"]

    # --- push ----------------------------------------------------------

    def record_visits(self, account_ids: list[str], count: int) -> list[dict]:
        """Queue ``count`` new visits, as a collector records them offline."""
        queued = []
        for _ in range(count):
            account = account_ids[self.next_seq % len(account_ids)]
            queued.append(visit_mutation(self.next_seq, self.client_id, account))
            self.next_seq += 1
        self.outbox += queued
        return queued

    def push_batch(self, batch: list[dict]) -> dict:
        """Send one batch until it is answered; trim the outbox by the
        server's ``last_seq``. Returns the answer (200 or 409 body)."""
        status, data = self.request("POST", "/api/v1/sync/push",
                                    {"client_id": self.client_id, "mutations": batch})
        if status == 200:
            self.last_seq = data["last_seq"]
            self.outbox = [m for m in self.outbox if m["seq"] > self.last_seq]
            for result in data["results"]:
                if result["status"] not in ("applied", "duplicate"):
                    raise AssertionError(f"unexpected push result {result}")
            return data
        if status == 409:
            expected = data["error"]["expected_seq"]
            self.last_seq = expected - 1
            self.outbox = [m for m in self.outbox if m["seq"] >= expected]
            if not self.outbox or self.outbox[0]["seq"] != expected:
                raise DataLoss(f"server expects seq {expected}, outbox starts elsewhere")
            return data
        raise AssertionError(f"push: {status} {data}")

    def push_all(self, batch_size: int, on_batch=None) -> None:
        """Drain the outbox from its head. ``on_batch(batch)`` is told each
        batch before it is first sent (the crash test records them)."""
        rounds = 0
        while self.outbox:
            rounds += 1
            if rounds > 10 * len(self.outbox) + 100:
                raise GaveUp("the outbox does not drain")
            batch = self.outbox[:batch_size]
            if on_batch:
                on_batch(batch)
            self.push_batch(batch)

    # --- pull ----------------------------------------------------------

    def pull_all(self, limit: int = 200) -> dict[tuple[str, str], int]:
        """Pull to the end of the feed. A page whose answer is lost is asked
        again from the same cursor; 410 starts over from the beginning."""
        for _ in range(10_000):
            path = f"/api/v1/sync/pull?limit={limit}"
            if self.cursor:
                path += f"&cursor={self.cursor}"
            status, page = self.request("GET", path)
            if status == 410:
                self.cursor, self.state = None, {}
                continue
            if status != 200:
                raise AssertionError(f"pull: {status} {page}")
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change["deleted"]:
                    self.state.pop(key, None)
                else:
                    self.state[key] = change["version"]
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return self.state
        raise GaveUp("the feed never ends")

    def account_ids(self) -> list[str]:
        return sorted(i for (entity, i) in self.pull_all() if entity == "account")
