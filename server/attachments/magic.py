"""The first bytes each accepted content type starts with (its "magic"),
so that a file named a JPEG is one (docs/protocol.md 1.1: otherwise 415)."""

from __future__ import annotations

# (offset, bytes) pairs that must all match.
SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/webp": ((0, b"RIFF"), (8, b"WEBP")),
    "application/pdf": ((0, b"%PDF-"),),
}


def needed(content_type: str) -> int:
    """How many first bytes the check needs."""
    return max(offset + len(sig) for offset, sig in SIGNATURES[content_type])


def disagrees(content_type: str, head: bytes) -> bool:
    """Whether ``head`` (the first bytes of the content, maybe fewer than
    ``needed``) already shows it is not ``content_type``. Bytes not seen
    yet cannot disagree; the whole file is checked again once complete."""
    for offset, signature in SIGNATURES[content_type]:
        seen = head[offset:offset + len(signature)]
        if seen != signature[:len(seen)]:
            return True
    return False


def matches(content_type: str, content: bytes) -> bool:
    return len(content) >= needed(content_type) and not disagrees(content_type, content)
