"""The server's hybrid logical clock. Every push moves it past the clocks it
receives, and every answer carries it so phones move theirs forward too."""

from sync.hlc import HybridClock

SERVER_NODE = "server"
server_clock = HybridClock(SERVER_NODE)
