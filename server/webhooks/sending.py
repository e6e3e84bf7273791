"""One webhook POST: the exact body, its id and signature headers, a time
limit, and an outcome that is either a 2xx or the reason it was not.

The standard library's ``http.client`` rather than urllib: a redirect is
not followed (it counts as a failure, as every answer that is not 2xx),
and nothing else is added to the request."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "fieldvisit-webhooks/1"
ERROR_MAX_CHARS = 500


def signature(secret: str, body: bytes) -> str:
    """``Fieldvisit-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the
    exact body under the configured secret (docs/protocol.md "Webhooks")."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None  # the HTTP status, when an answer came
    error: str | None = None   # why it is not delivered, for the deliveries page


def post(url: str, event_id: str, body: bytes, secret: str, timeout_s: float) -> Outcome:
    """POST ``body`` to ``url``; ``ok`` only for a 2xx answer that came
    within ``timeout_s`` (each network wait is limited to it, and an answer
    that took longer in all is a failure too)."""
    parts = urlsplit(url)
    started = time.monotonic()
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout_s,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Fieldvisit-Event-Id": event_id,
        "Fieldvisit-Signature": signature(secret, body),
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        # A little of the answer, for the page; the rest is not needed.
        text = response.read(ERROR_MAX_CHARS).decode("utf-8", "replace")
        status = response.status
    except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
        return Outcome(False, None, f"no answer within {timeout_s:g} s")
    except ConnectionRefusedError:
        return Outcome(False, None, "connection refused")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS])
    finally:
        connection.close()
    if time.monotonic() - started > timeout_s:
        return Outcome(False, status, f"answered {status} after more than {timeout_s:g} s")
    if 200 <= status < 300:
        return Outcome(True, status)
    detail = " ".join(text.split())[:200]
    return Outcome(False, status, f"HTTP {status}" + (f": {detail}" if detail else ""))
