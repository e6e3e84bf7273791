"""Attachment tests run on SQLite and PostgreSQL (``backend``) with their
bytes in a folder of the test's own."""

from __future__ import annotations

import pytest

from tests.supervisor.conftest import done_visit_fields, quick_password_hashes, taipei  # noqa: F401

from .support import new_id


@pytest.fixture
def blob_root(tmp_path):
    return tmp_path / "blobs"


@pytest.fixture
def app_settings(blob_root):
    return {"ATTACHMENTS_URL": f"file://{blob_root}"}


@pytest.fixture
def alice(world):
    return world.phone("alice")


@pytest.fixture
def visit(world, alice):
    """A done visit of alice's on A-1."""
    visit_id = new_id()
    result = alice.write("visit", visit_id, done_visit_fields(world.accounts["A-1"], taipei(0, 10)))
    assert result["status"] == "applied", result
    return visit_id


# -- a real S3 API server on loopback ---------------------------------------------

S3_ENV = {"AWS_ACCESS_KEY_ID": "fieldvisit-test", "AWS_SECRET_ACCESS_KEY": "fieldvisit-test",
          "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's standalone S3 server in a process of its own on a free
    loopback port (a real HTTP S3 API, no mocked calls), stopped at the end."""
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    binary = Path(sys.executable).with_name("moto_server")
    if not binary.exists():
        binary = shutil.which("moto_server")
        if binary is None:
            pytest.skip("moto_server is missing: `make install-dev` installs moto[server]")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tmp_path_factory.mktemp("s3") / "moto.log", "wb")  # noqa: SIM115 - closed below
    command = [str(binary), "-H", "127.0.0.1", "-p", str(port)]
    if shutil.which("timeout"):
        command = ["timeout", "-s", "KILL", "1800", *command]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, **S3_ENV}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A new bucket on the S3 server; the usual AWS settings point at it."""
    import boto3

    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    name = f"fv-{new_id()[:8]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    return name
