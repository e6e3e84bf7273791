"""``make run``: one worker (``flask --app wsgi worker``) in the background
and the development server in the foreground; when the server stops
(Ctrl-C, or it exits), the worker is stopped too and waited for.

Both children get the terminal's Ctrl-C themselves (they are in its
process group): the server exits, the worker finishes the POST under way.
This launcher only waits, and then makes sure the worker is gone.
Arguments are passed on to ``flask run`` (e.g. ``--host``, ``--port``)."""

from __future__ import annotations

import signal
import subprocess
import sys

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
WORKER_STOP_S = 15


def main(argv: list[str]) -> int:
    # Ctrl-C is for the children; this process outlives them to clean up.
    # (A handler, not SIG_IGN: an ignored signal stays ignored in children.)
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    worker = subprocess.Popen(FLASK + ["worker"])
    server = subprocess.Popen(FLASK + ["run", *argv])

    def forward(signum, _frame):
        server.send_signal(signum)

    # ``kill`` of this launcher (systemd, a terminal closing) stops the server.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    try:
        code = server.wait()
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(WORKER_STOP_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
