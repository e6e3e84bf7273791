"""Draw the app's PNG icons with the standard library only (zlib + struct).

Same design as icon.svg: a yellow map pin with a check mark on navy.
Run from anywhere: python3 tools/make_icons.py — it writes into pwa/icons/.
It lives outside pwa/ because everything under pwa/ is served to anyone.
"""

import math
import struct
import zlib
from pathlib import Path

NAVY = (0x0B, 0x2A, 0x5B)
YELLOW = (0xFF, 0xD2, 0x3F)
WHITE = (0xFF, 0xFF, 0xFF)
HERE = Path(__file__).resolve().parent.parent / "pwa" / "icons"


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def in_triangle(px, py, a, b, c):
    def side(p1, p2):
        return (px - p2[0]) * (p1[1] - p2[1]) - (p1[0] - p2[0]) * (py - p2[1])
    d1, d2, d3 = side(a, b), side(b, c), side(c, a)
    neg = d1 < 0 or d2 < 0 or d3 < 0
    pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (neg and pos)


def colour_at(x, y, maskable):
    """Colour of the point (x, y) in unit coordinates, or None outside the icon."""
    if not maskable:
        r = 0.18  # rounded-square corner radius
        cx = min(max(x, r), 1 - r)
        cy = min(max(y, r), 1 - r)
        if math.hypot(x - cx, y - cy) > r:
            return None
    else:
        # Keep the pin inside the maskable safe zone (a circle of 40 % radius).
        x, y = 0.5 + (x - 0.5) / 0.8, 0.5 + (y - 0.5) / 0.8
    if seg_dist(x, y, 0.39, 0.42, 0.47, 0.50) < 0.045 or seg_dist(x, y, 0.47, 0.50, 0.62, 0.34) < 0.045:
        return NAVY
    if math.hypot(x - 0.5, y - 0.42) < 0.24 or in_triangle(x, y, (0.29, 0.53), (0.71, 0.53), (0.5, 0.87)):
        return YELLOW
    if 0.30 < x < 0.70 and 0.88 < y < 0.91:
        return WHITE  # the ground line under the pin
    return NAVY


def render(size, maskable=False, samples=4):
    rows = []
    for j in range(size):
        row = bytearray([0])  # filter type 0 for each scanline
        for i in range(size):
            acc = [0, 0, 0, 0]
            for sj in range(samples):
                for si in range(samples):
                    c = colour_at((i + (si + 0.5) / samples) / size, (j + (sj + 0.5) / samples) / size, maskable)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            n = samples * samples
            alpha = acc[3] / n
            if alpha:
                row += bytes(round(acc[k] / (acc[3] / 255)) for k in range(3)) + bytes([round(alpha)])
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width, height, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    for name, size, maskable in [("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                 ("icon-maskable-512.png", 512, True), ("apple-touch-icon.png", 180, True)]:
        (HERE / name).write_bytes(render(size, maskable))
        print("wrote", name)
