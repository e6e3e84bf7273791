"""A real HTTP receiver on loopback for the webhook tests: it records every
POST (headers and exact body) and answers as the test tells it to."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    event_id: str
    signature: str
    body: bytes
    status: int  # what the receiver answered (0: it never answered)
    late: bool = False  # answered after a delay meant to outlast the sender's timeout
    at: float = field(default_factory=time.monotonic)

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """``answer(event_id, n)`` decides each answer: an HTTP status, or
    ("sleep", seconds, status) to answer late, or ("hold", event) to wait
    until the event is set; ``n`` counts the POSTs of that id so far."""

    def __init__(self, port: int = 0):
        self.received: list[Received] = []
        self.lock = threading.RLock()
        self.answer = lambda event_id, n: 200
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event_id = self.headers.get("Fieldvisit-Event-Id", "")
                with receiver.lock:
                    n = sum(1 for r in receiver.received if r.event_id == event_id)
                    entry = Received(event_id, self.headers.get("Fieldvisit-Signature", ""),
                                     body, 0)
                    receiver.received.append(entry)
                    receiver.arrived.notify_all()
                decision = receiver.answer(event_id, n)
                if isinstance(decision, tuple) and decision[0] == "hold":
                    decision[1].wait(30)
                    decision = 200
                if isinstance(decision, tuple) and decision[0] == "sleep":
                    entry.late = True
                    time.sleep(decision[1])
                    decision = decision[2]
                entry.status = decision
                try:
                    self.send_response(decision)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    entry.status = 0  # the sender went away (killed, or gave up waiting)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/fieldvisit"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -- what arrived ----------------------------------------------------------

    def accepted(self) -> list[Received]:
        """The POSTs answered with a 2xx in time, in arrival order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300 and not r.late]

    def accepted_counts(self) -> Counter:
        return Counter(r.event_id for r in self.accepted())

    def wait_for(self, predicate, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; received {len(self.received)} POSTs")
                self.arrived.wait(min(remaining, 0.1))


def free_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
