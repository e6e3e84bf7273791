"""A loopback TCP proxy that behaves like a slow mobile link: a fixed
round-trip delay and a share of exchanges whose connection drops.

bench/flaky_proxy.py breaks one exchange per connection with a random delay;
a latency benchmark needs a *fixed* delay and kept-alive connections (a new
connection costs a round trip of its own, as a TCP handshake does), so this
proxy forwards bytes, not requests:

* every chunk is delivered ``rtt_s / 2`` after it was read, in each
  direction, in order; opening the upstream connection costs one more
  ``rtt_s`` (the handshake);
* it reads just enough HTTP/1.1 in the client's stream (request line,
  ``Content-Length``) to count requests by method and path, and for each
  request draws whether its connection drops (``drop_rate``): half of the
  drops lose the request (the server never sees it), half lose the answer
  (the server did the work, the client never hears of it). Either way both
  sides are reset, as a dead radio link looks.

Loopback only; bounded by ``lifetime_s``; every thread is a daemon.

    with LatencyProxy(target_port, rtt_s=0.3, drop_rate=0.05, seed=1) as proxy:
        ...proxy.url..., proxy.requests (Counter of "GET /path")
"""

from __future__ import annotations

import contextlib
import heapq
import random
import socket
import struct
import threading
import time
from collections import Counter

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
IO_TIMEOUT_S = 120.0


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a dead link looks. SHUT_RD first wakes a thread
    blocked in recv() on it: until that returns, close() alone would send
    nothing and the peer would wait for ever."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class _Delayed:
    """Delivers chunks to ``sock`` each at its time, in order."""

    def __init__(self, sock: socket.socket, on_fail):
        self.sock, self.on_fail = sock, on_fail
        self.queue: list[tuple[float, int, bytes | None]] = []
        self.cond = threading.Condition()
        self.n = 0
        threading.Thread(target=self._run, daemon=True).start()

    def put(self, at: float, data: bytes | None) -> None:
        """``data`` None: close (after everything before it)."""
        with self.cond:
            self.n += 1
            heapq.heappush(self.queue, (at, self.n, data))
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                at, _, data = self.queue[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self.cond.wait(wait)
                    continue
                heapq.heappop(self.queue)
            if data is None:
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_WR)
                return
            try:
                self.sock.sendall(data)
            except OSError:
                self.on_fail()
                return


class _RequestCounter:
    """Finds request boundaries in a client's byte stream (Content-Length
    bodies; chunked bodies up to their last chunk)."""

    def __init__(self):
        self.buffer = b""
        self.body_left = 0
        self.chunked = False

    def feed(self, data: bytes) -> list[str]:
        """The requests ("METHOD /path") that start in ``data``."""
        found = []
        self.buffer += data
        while self.buffer:
            if self.chunked:
                end = self.buffer.find(b"0\r\n\r\n")
                if end < 0:
                    self.buffer = self.buffer[-4:]
                    return found
                self.buffer = self.buffer[end + 5:]
                self.chunked = False
                continue
            if self.body_left:
                taken = min(self.body_left, len(self.buffer))
                self.body_left -= taken
                self.buffer = self.buffer[taken:]
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return found
            head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
            lines = head.split("\r\n")
            method, _, rest = lines[0].partition(" ")
            path = rest.split(" ")[0].split("?")[0]
            if "/_local/" in path:  # checkpoint ids differ per replication
                path = path[: path.index("/_local/") + 8] + "{id}"
            found.append(f"{method} {path}")
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self.body_left = int(value.strip())
                elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
                    self.chunked = True
        return found


class LatencyProxy:
    def __init__(self, target_port: int, *, rtt_s: float = 0.3, drop_rate: float = 0.05,
                 seed: int = 0, target_host: str = "127.0.0.1", host: str = "127.0.0.1",
                 lifetime_s: float = 900.0):
        if host not in LOOPBACK or target_host not in LOOPBACK:
            raise ValueError("the latency proxy only listens on and forwards to loopback")
        if not 0 <= drop_rate <= 1:
            raise ValueError("drop_rate is a probability")
        self.target = (target_host, target_port)
        self.rtt_s, self.drop_rate = rtt_s, drop_rate
        self.lifetime_s = lifetime_s
        self.requests: Counter[str] = Counter()
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, name="latency-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.stats.clear()

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                self.stats["connections"] += 1
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _draw(self) -> str:
        with self._lock:
            if self._rng.random() >= self.drop_rate:
                return "pass"
            fate = "drop_request" if self._rng.random() < 0.5 else "drop_response"
            self.stats[fate] += 1
            return fate

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(IO_TIMEOUT_S)
        state = {"dead": False, "kill_on_answer": False, "upstream_eof": False}
        upstream: socket.socket | None = None

        def kill() -> None:
            if not state["dead"]:
                state["dead"] = True
                _reset(client)
                if upstream is not None:
                    _reset(upstream)

        try:
            time.sleep(self.rtt_s)  # the handshake's round trip
            upstream = socket.create_connection(self.target, timeout=IO_TIMEOUT_S)
        except OSError:
            kill()
            return
        to_server = _Delayed(upstream, kill)
        to_client = _Delayed(client, kill)
        half = self.rtt_s / 2

        def answers() -> None:
            while not state["dead"]:
                try:
                    data = upstream.recv(65536)
                except OSError:
                    break
                if state["kill_on_answer"]:
                    kill()  # the server answered; the client never hears it
                    return
                to_client.put(time.monotonic() + half, data or None)
                if not data:
                    # The server closed (an idle keep-alive timeout): bytes the
                    # client sends from now on would meet a reset there too.
                    state["upstream_eof"] = True
                    return

        threading.Thread(target=answers, daemon=True).start()
        counter = _RequestCounter()
        while not state["dead"]:
            try:
                data = client.recv(65536)
            except OSError:
                break
            if not data:
                to_server.put(time.monotonic() + half, None)
                return
            if state["upstream_eof"]:
                kill()
                return
            fate = "pass"
            for request in counter.feed(data):
                with self._lock:
                    self.requests[request] += 1
                drawn = self._draw()
                fate = drawn if drawn != "pass" else fate
            if fate == "drop_request":
                kill()
                return
            if fate == "drop_response":
                state["kill_on_answer"] = True
            to_server.put(time.monotonic() + half, data)
