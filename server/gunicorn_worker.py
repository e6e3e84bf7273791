"""The gunicorn worker the shipped ``gunicorn.conf.py`` runs: gunicorn's
threaded worker with time limits on reading a request, and server-layer
errors in the API's JSON shape.

Why: a connection that sends its request slowly holds a thread for as long
as it keeps sending. gunicorn's threaded worker already parks a connection
that sends *nothing* on its poller, but one byte every few seconds keeps a
thread forever (with the sync worker, a whole process). Here every read of
the request line and headers must finish within a fixed time of the first
byte (``FIELDVISIT_HEADER_TIMEOUT_S``, default 10 s), and the body within
a base time plus one second per ``FIELDVISIT_BODY_MIN_RATE`` bytes (default
10 s + 1 s per 4 KiB, the speed of a weak mobile data connection), so a
thread is never held longer than the client's own data justifies. Writing
an answer to a client that does not read it is limited the same way
(``FIELDVISIT_WRITE_TIMEOUT_S``, default 60 s). With enough threads (see
``gunicorn.conf.py``) many slow clients then cost threads, not the service;
``bench/slow_clients.py`` measures how many.

A request line, header or body that arrives too late is answered 408, and
a request gunicorn itself refuses (a request line over the limit, too many
or too large headers, a malformed request) is answered in the one JSON
error shape of ``docs/protocol.md`` instead of gunicorn's HTML page, with
a log line that names the kind of error but never the request's text
(it can hold names and phone numbers).

It extends gunicorn's ``ThreadWorker`` through the methods a worker class
overrides (``handle``, ``handle_request``, ``handle_error``), as gunicorn 27
defines them; ``tests/hardening/test_production_server.py`` and
``test_slow_clients.py`` run it for real.
"""

from __future__ import annotations

import json
import os
import socket
import time
from http import HTTPStatus

from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


class ReadDeadlineExceeded(ValueError):
    """The client did not send its request within the time allowed. A
    ValueError, so that a body read in the application ends like a
    disconnect (werkzeug's ClientDisconnected) and the request head parser
    hands it to ``handle_error``."""


class DeadlineSocket:
    """The connection's socket with a deadline on every ``recv``: each read
    waits at most for what is left of the current phase's time."""

    def __init__(self, sock: socket.socket, write_timeout_s: float):
        self._sock = sock
        self._write_timeout_s = write_timeout_s
        self._deadline: float | None = None
        self._per_byte_s = 0.0
        self._closed = False

    def start(self, seconds: float, min_rate: float | None = None) -> None:
        """A new phase: ``seconds`` from now, extended by one second per
        ``min_rate`` bytes received when a rate is given."""
        self._deadline = time.monotonic() + seconds
        self._per_byte_s = 1.0 / min_rate if min_rate else 0.0

    def close_in_this_thread(self, linger_s: float) -> None:
        """Close as gunicorn would (FIN, then read what the client still
        sends until it closes, so the answer is not cut by a reset), but
        here in the request's thread and for at most ``linger_s``: gunicorn
        does that lingering on the worker's main thread, for up to 2 s per
        connection, and a crowd of slow clients being cut then stalls
        every new connection. Afterwards the wrapper acts closed, so
        gunicorn's own close finds nothing left to do."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + linger_s
            drained = 0
            while drained < 65536:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._sock.settimeout(remaining)
                data = self._sock.recv(4096)
                if not data:
                    break
                drained += len(data)
        except OSError:
            pass
        finally:
            self._sock.close()

    def shutdown(self, how):
        if self._closed:
            raise OSError("already closed")
        return self._sock.shutdown(how)

    def setblocking(self, flag):
        if not self._closed:
            self._sock.setblocking(flag)

    def settimeout(self, value):
        if not self._closed:
            self._sock.settimeout(value)

    def close(self):
        if not self._closed:
            self._closed = True
            self._sock.close()

    def recv(self, size: int, *args) -> bytes:
        if self._closed:
            return b""
        if self._deadline is None or self._sock.gettimeout() == 0.0:
            return self._sock.recv(size, *args)
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise ReadDeadlineExceeded("request not received in time")
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(size, *args)
        except TimeoutError:
            raise ReadDeadlineExceeded("request not received in time") from None
        finally:
            self._sock.settimeout(None)
        self._deadline += len(data) * self._per_byte_s
        return data

    def sendall(self, data, *args):
        if self._sock.gettimeout() == 0.0:
            return self._sock.sendall(data, *args)
        self._sock.settimeout(self._write_timeout_s)
        try:
            return self._sock.sendall(data, *args)
        finally:
            self._sock.settimeout(None)

    def fileno(self) -> int:
        return self._sock.fileno()

    def __getattr__(self, name):
        return getattr(self._sock, name)


# (exception class, status, message): the first match answers.
_REFUSALS = (
    (ReadDeadlineExceeded, 408, "the request did not arrive in time"),
    (http_errors.LimitRequestLine, 414, "the request line (path and query) is longer than "
                                        "the server accepts"),
    (http_errors.LimitRequestHeaders, 431, "the request headers are larger or more numerous "
                                           "than the server accepts"),
    (http_errors.ForbiddenProxyRequest, 403, "proxy request refused"),
    (http_errors.ExpectationFailed, 417, "the Expect header is not supported"),
    (http_errors.UnsupportedTransferCoding, 501, "the transfer coding is not supported"),
    (http_errors.ParseException, 400, "the request is not valid HTTP"),
)


def refusal_for(exc: BaseException) -> tuple[int, str] | None:
    if isinstance(exc, (http_errors.InvalidResponseHeader,
                        http_errors.InvalidResponseHeaderName)):
        return None  # the application's fault, not the client's
    for kind, status, message in _REFUSALS:
        if isinstance(exc, kind):
            return status, message
    return None


def json_error_response(status: int, message: str) -> bytes:
    phrase = HTTPStatus(status).phrase
    body = json.dumps({"error": {"code": status, "status": phrase, "message": message}}).encode()
    head = (f"HTTP/1.1 {status} {phrase}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nCache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class DeadlineThreadWorker(ThreadWorker):
    header_timeout_s = _seconds("FIELDVISIT_HEADER_TIMEOUT_S", 10)
    body_timeout_s = _seconds("FIELDVISIT_BODY_TIMEOUT_S", 10)
    body_min_rate = _seconds("FIELDVISIT_BODY_MIN_RATE", 4096)
    write_timeout_s = _seconds("FIELDVISIT_WRITE_TIMEOUT_S", 60)
    close_linger_s = 1.0

    def handle(self, conn):
        # Runs in a pool thread once the connection has data to read (the
        # base class parks silent connections on its poller first).
        if not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock, self.write_timeout_s)
        conn.sock.start(self.header_timeout_s)
        result = super().handle(conn)
        if result is False:  # not kept alive, not parked: the connection ends here
            conn.sock.close_in_this_thread(self.close_linger_s)
        return result

    def handle_request(self, req, conn):
        # The head is parsed: from here on the body's clock runs.
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.start(self.body_timeout_s, self.body_min_rate)
        return super().handle_request(req, conn)

    def handle_error(self, req, client, addr, exc):
        refusal = refusal_for(exc)
        ip = (addr or ("",))[0] if isinstance(addr, tuple) else addr
        if refusal is None:
            path = getattr(req, "path", None) or "(no path read)"
            self.log.exception("Error handling request %s", path)
            status, message = 500, "the server failed; the request can be retried safely"
        else:
            status, message = refusal
            # The kind of error only: str(exc) quotes the request's text.
            self.log.info("Refused a request from %s with %s: %s", ip, status,
                          type(exc).__name__)
        try:
            data = json_error_response(status, message)
            if isinstance(client, DeadlineSocket):
                client.sendall(data)
            else:
                client.settimeout(self.write_timeout_s)
                client.sendall(data)
        except Exception:  # noqa: BLE001 - the client is gone; nothing to answer
            self.log.debug("Failed to send error message.")
