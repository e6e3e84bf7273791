"""The server's hybrid logical clock. Every accepted mutation moves it past
the clock the phone sent, and every answer carries it so phones move theirs
forward too. Each worker process keeps its own: a worker that has not seen
a phone's fast clock still stamps with its wall clock, and a phone's clock
may lead the server's by at most 24 hours (push rejects more)."""

from sync.hlc import HybridClock

SERVER_NODE = "server"
server_clock = HybridClock(SERVER_NODE)
