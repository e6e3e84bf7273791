"""Reverse proxies in front of the server (nginx, a load balancer).

Behind a proxy every request comes from the proxy's address, so the login
limit would count everybody's failures together and the logs would name
one address. With ``FIELDVISIT_TRUSTED_PROXIES=N`` the last N entries of
``X-Forwarded-For`` (and ``X-Forwarded-Proto``, ``-Host``, ``-Port``) are
believed — one per proxy, each appending what it saw. Off (0) by default:
without a proxy those headers come from the client and anyone could name
any address."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
