"""The production configuration: ``gunicorn wsgi:app`` started in this
directory reads it (command-line options still win over it).

What it is for, each measured in ``bench/README.md`` ("Hostile clients"):

- **Slow clients cannot take the service down.** The worker is gunicorn's
  threaded worker with time limits on reading a request
  (``server/gunicorn_worker.py``): a connection that dribbles its headers or
  body holds one thread for a bounded time, never a whole process. Each
  worker accepts only as many connections as it has threads, so a
  request never waits in a worker whose threads are all held by slow
  clients while another worker has one free.
- **Workers from the machine**: two processes per CPU (at least two), 64
  threads each; ``FIELDVISIT_WORKERS`` and ``FIELDVISIT_THREADS`` override.
- **No debtor data in the logs**: the access log names the path without
  its query string (a search for a name or a phone number travels in it),
  and the error log never quotes a refused request's text.

Behind nginx (``deploy/nginx/fieldvisit.conf``) nothing here changes; set
``FIELDVISIT_TRUSTED_PROXIES=1`` so the login limit and the logs see the
client's address instead of nginx's.
"""

import multiprocessing
import os


def _int(name, default):
    raw = os.environ.get(name)
    return int(raw) if raw else default


bind = os.environ.get("FIELDVISIT_BIND", "127.0.0.1:8000")

worker_class = "server.gunicorn_worker.DeadlineThreadWorker"
workers = _int("FIELDVISIT_WORKERS", max(2, 2 * multiprocessing.cpu_count()))
threads = _int("FIELDVISIT_THREADS", 64)
# A worker takes a connection only when it has a thread for it: a busy
# worker stops accepting and the next request goes to one with room.
worker_connections = threads
# Keep-alive would let idle connections count against that room; phones
# send a few requests per sync, and nginx opens a connection per request.
keepalive = 0

# The worker heartbeat: a request running longer than this (the slowest
# push on a loaded machine is a few seconds) means a stuck worker.
timeout = 60
graceful_timeout = 20

# The request line (path and query) and headers the protocol needs are far
# below gunicorn's defaults; stricter limits answer 414 and 431 sooner.
limit_request_line = 8190
limit_request_fields = 64
limit_request_field_size = 8190

# gunicorn's control socket (for gunicornc) is not used; without this each
# server would make one in the home directory.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = "info"
# %(U)s is the path without the query string; %(h)s the client's address
# (behind a trusted proxy the one the proxy saw: server/proxies.py rewrites
# it before this line is written).
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
