"""A local map tile server for the browser tests: any ``/{z}/{x}/{y}.png``
gets a real 256×256 PNG (a pale square with a grid line, so a screenshot
shows where tiles landed), and every request is counted. The tests never
reach a public tile server."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TILE_PATH = re.compile(r"^/(\d+)/(\d+)/(\d+)\.png$")


def png_tile(size: int = 256) -> bytes:
    """An RGB PNG: light grey-green with a darker line along two edges."""
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type: none
        for x in range(size):
            edge = x == 0 or y == 0
            row += bytes((170, 186, 170) if edge else (226, 234, 222))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class TileStub:
    def __init__(self):
        self.requests: list[tuple[int, int, int]] = []
        tile = png_tile()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                match = TILE_PATH.match(self.path.split("?")[0])
                if not match:
                    self.send_error(404)
                    return
                stub.requests.append(tuple(int(g) for g in match.groups()))
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TileStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":  # a stub for trying the map by hand
    import time

    with TileStub() as stub:
        print(stub.url, flush=True)
        while True:
            time.sleep(3600)
