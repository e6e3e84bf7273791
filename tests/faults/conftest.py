"""Real deployments for fault tests: a database of their own, provisioned
through the operator's CLI, and gunicorn in its own process group. Every
server is killed and every database dropped at teardown, pass or fail."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.load import Database, ServerProcess, flask_run, provision

PG_ADMIN_URL = os.environ.get("FIELDVISIT_TEST_POSTGRES_URL")


@dataclass
class Deployment:
    database: Database
    env: dict
    workdir: Path
    workers: int
    servers: list[ServerProcess] = field(default_factory=list)

    @property
    def server(self) -> ServerProcess:
        return self.servers[-1]

    @property
    def url(self) -> str:
        return self.server.url

    def start(self, port: int | None = None) -> ServerProcess:
        server = ServerProcess(self.env, self.workdir, self.workers, port=port)
        self.servers.append(server)
        return server.start()

    def restart(self) -> ServerProcess:
        """A new server on the same port, as a supervisor (systemd) would."""
        return self.start(port=self.server.port)

    def audit_verify(self) -> subprocess.CompletedProcess:
        return flask_run(self.env, "audit", "verify")

    def tracebacks(self) -> list[str]:
        """Errors the servers logged. A 5xx is a bug, never an answer to a
        torn request or a crash, so tests expect none."""
        lines = []
        for server in self.servers:
            text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
            lines += [line for line in text.splitlines() if "Traceback" in line or "[ERROR]" in line]
        return lines

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.database.drop()


@pytest.fixture
def deploy(tmp_path):
    """``deploy(backend, usernames, accounts_per_user=1, workers=2)``."""
    made: list[Deployment] = []

    def make(backend: str, usernames: list[str], accounts_per_user: int = 1,
             workers: int = 2) -> Deployment:
        if backend == "postgres" and not PG_ADMIN_URL:
            if os.environ.get("FIELDVISIT_REQUIRE_POSTGRES") == "1":
                pytest.fail("FIELDVISIT_REQUIRE_POSTGRES=1 but FIELDVISIT_TEST_POSTGRES_URL is not set")
            pytest.skip("set FIELDVISIT_TEST_POSTGRES_URL to run the PostgreSQL fault tests")
        workdir = tmp_path / f"{backend}-{len(made)}"
        workdir.mkdir()
        database = Database.create("sqlite" if backend == "sqlite" else PG_ADMIN_URL, workdir)
        deployment = Deployment(database, {}, workdir, workers)
        made.append(deployment)  # registered before anything can fail, so it is cleaned up
        deployment.env = provision(database, workdir, usernames, accounts_per_user)
        deployment.start()
        return deployment

    yield make
    for deployment in made:
        deployment.close()
