"""A loopback TCP proxy that breaks HTTP exchanges the way a poor mobile
connection does, so tests and benchmarks can prove "exactly once" against
the real server process.

Each accepted connection draws one fate from a seeded RNG (in accept
order), at configurable rates:

* ``reset``          — the connection is reset before anything is read
                       (the phone sees "connection reset/refused");
* ``drop_request``   — the request is read and the connection closed
                       without forwarding it (the server never sees it);
* ``cut_body``       — the head and half of the body are forwarded, then
                       both sides are closed (the server sees a torn upload);
* ``drop_response``  — the request is forwarded, the server's whole answer
                       is read, and the client's connection is closed
                       without it (the worst case: the server committed,
                       the phone does not know);
* ``delay``          — independently of the above, the request waits a
                       random time before it is forwarded.

It speaks just enough HTTP/1.1 to find the end of a request (head and
``Content-Length`` body) and forces ``Connection: close`` upstream, so the
end of the answer is the server closing its side. One exchange per client
connection; clients must not rely on keep-alive through it.

Loopback only, and bounded: the proxy stops accepting after ``lifetime_s``.

    python -m bench.flaky_proxy --target 127.0.0.1:5000 --port 8001 \\
        --seed 7 --drop-response 0.1 --reset 0.05
"""

from __future__ import annotations

import argparse
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
MAX_HEAD = 64 * 1024
IO_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class FaultRates:
    """Probabilities per connection. The four exclusive faults must sum to
    at most 1; the rest of the time the exchange passes through."""

    reset: float = 0.0
    drop_request: float = 0.0
    cut_body: float = 0.0
    drop_response: float = 0.0
    delay: float = 0.0
    delay_max_s: float = 0.2

    def __post_init__(self):
        total = self.reset + self.drop_request + self.cut_body + self.drop_response
        if not 0 <= total <= 1 or not 0 <= self.delay <= 1:
            raise ValueError("fault rates must be probabilities summing to at most 1")

    def choose(self, rng: random.Random) -> tuple[str, float]:
        """(fate, delay in seconds) for one connection."""
        draw = rng.random()
        fate = "pass"
        for name in ("reset", "drop_request", "cut_body", "drop_response"):
            rate = getattr(self, name)
            if draw < rate:
                fate = name
                break
            draw -= rate
        delay = rng.uniform(0, self.delay_max_s) if rng.random() < self.delay else 0.0
        return fate, delay


class FlakyProxy:
    """``with FlakyProxy(port, FaultRates(...), seed=1) as proxy: proxy.url``"""

    def __init__(self, target_port: int, rates: FaultRates, *, seed: int = 0,
                 target_host: str = "127.0.0.1", host: str = "127.0.0.1", port: int = 0,
                 lifetime_s: float = 600.0):
        if host not in LOOPBACK or target_host not in LOOPBACK:
            raise ValueError("the flaky proxy only listens on and forwards to loopback")
        self.target = (target_host, target_port)
        self.rates = rates
        self.lifetime_s = lifetime_s
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.2)  # so the accept loop notices stop and lifetime
        self.host, self.port = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, name="flaky-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FlakyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> FlakyProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:  # one draw per connection, in accept order
                fate, delay = self.rates.choose(self._rng)
                self.stats[fate] += 1
                if delay:
                    self.stats["delay"] += 1
            threading.Thread(target=self._handle, args=(conn, fate, delay), daemon=True).start()

    def _handle(self, client: socket.socket, fate: str, delay: float) -> None:
        upstream = None
        try:
            client.settimeout(IO_TIMEOUT_S)
            if fate == "reset":
                _reset(client)
                return
            head, body = _read_request(client)
            if head is None or fate == "drop_request":
                return
            if delay:
                time.sleep(delay)
            upstream = socket.create_connection(self.target, timeout=IO_TIMEOUT_S)
            if fate == "cut_body":
                # Half of the body (at least one byte short), then hang up:
                # the server must treat a torn upload as no request at all.
                upstream.sendall(head + body[: len(body) // 2])
                return
            upstream.sendall(head + body)
            answer = _read_to_eof(upstream)
            if fate == "drop_response":
                _reset(client)
                return
            client.sendall(answer)
        except OSError:
            pass  # the client or the server went away: that is the game here
        finally:
            for sock in (upstream, client):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN, as a dropped mobile link looks."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_request(sock: socket.socket) -> tuple[bytes | None, bytes]:
    """(head with ``Connection: close`` forced, body); head None when the
    client closed before sending a whole head."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            return None, b""
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    raw_head, rest = data.split(b"\r\n\r\n", 1)
    lines = raw_head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        if key not in (b"connection", b"keep-alive"):
            kept.append(line)
    kept.append(b"Connection: close")
    body = rest
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        body += chunk
    return b"\r\n".join(kept) + b"\r\n\r\n", body[:length]


def _read_to_eof(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:5000", help="HOST:PORT of the real server")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=3600.0, help="seconds before it stops")
    for name in ("reset", "drop-request", "cut-body", "drop-response", "delay"):
        parser.add_argument(f"--{name}", type=float, default=0.0, help="probability per connection")
    parser.add_argument("--delay-max", type=float, default=0.2, help="seconds")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    rates = FaultRates(args.reset, args.drop_request, args.cut_body, args.drop_response,
                       args.delay, args.delay_max)
    with FlakyProxy(int(port), rates, seed=args.seed, target_host=host, port=args.port,
                    lifetime_s=args.lifetime) as proxy:
        print(f"flaky proxy {proxy.url} -> {args.target} for {args.lifetime:.0f}s", flush=True)
        try:
            proxy._thread.join()
        except KeyboardInterrupt:
            pass
        print(dict(proxy.stats))


if __name__ == "__main__":
    main()
