"""Webhooks (docs/protocol.md "Webhooks"): every committed change to a
visit, payment, promise or attachment is POSTed to the configured endpoints.

* ``settings.py`` — the ``FIELDVISIT_WEBHOOK_*`` and ``FIELDVISIT_WORKER_*``
  variables;
* ``models.py`` — the durable queue: one event per change, one delivery
  per event and endpoint, and the worker's scheduled jobs;
* ``queue.py`` — writes the events in the transaction of the change (the
  write layer's ``ChangeWriter`` calls it), so a rolled-back change queues
  nothing and a committed one is never lost;
* ``sending.py`` — one POST with its signature;
* ``dispatch.py`` — claims due deliveries (in order per record, never two
  workers on one), sends them and records the outcome with backoff;
* ``schedule.py`` — the worker's periodic jobs (promise upkeep, attachment
  purge), each run by one worker at a time.

The worker process itself is ``server/worker.py`` (``flask --app wsgi worker``).
"""
