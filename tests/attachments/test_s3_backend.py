"""The whole upload protocol with the bytes in S3 (a real S3 API server on
loopback): chunks, status, publication and download, nothing left over."""

from __future__ import annotations

import pytest
from webtest import TestApp

from tests.conftest import make_app

from .support import Content, jpeg_bytes, metadata, new_id, sha256


@pytest.fixture
def s3_app(tmp_path, request, s3_server, s3_bucket):
    return make_app("sqlite", tmp_path, request, {
        "ATTACHMENTS_URL": f"s3://{s3_bucket}/attachments",
        "ATTACHMENT_S3_ENDPOINT_URL": s3_server})


def test_an_upload_in_s3_out_of_order_resumed_and_downloaded(s3_app, tmp_path, request):
    from tests.helpers import World

    web = TestApp(s3_app)
    world = World.create(s3_app, web)
    alice = world.phone("alice")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"]})
    data = jpeg_bytes(2_300_000, seed=3)
    attachment_id = new_id()
    assert alice.write("attachment", attachment_id, metadata(visit, data))["status"] == "applied"
    content = Content(alice, attachment_id)
    mib = 1024 * 1024
    content.put(data, 2 * mib, len(data) - 1)
    content.put(data, 0, mib - 1)
    assert content.status().json["missing"] == [[mib, 2 * mib - 1]]
    assert content.put(data, mib, 2 * mib - 1).json == {"received": len(data), "uploaded": True}
    answer = content.get()
    assert answer.body == data and answer.headers["ETag"] == f'"{sha256(data)}"'
    store = s3_app.extensions["fieldvisit_blobs"]
    assert store.parts(attachment_id) == [] and store.temp_objects() == []
    keys = {o["Key"] for o in store.client.list_objects_v2(Bucket=store.bucket)["Contents"]}
    assert keys == {f"attachments/objects/{attachment_id}"}
