"""The blob store's one interface, the same on the file system and on a real
S3 API server (moto's, on loopback): chunks kept as they came, a file
published only whole, deletions that leave nothing behind."""

from __future__ import annotations

import threading

import pytest

from server.attachments.blobstore import BlobMissing, FileStore, S3Store, open_store

from .support import jpeg_bytes, new_id


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path):
    if request.param == "file":
        return FileStore(tmp_path / "blobs")
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(bucket, "fieldvisit/test", endpoint_url=server)


def test_chunks_are_kept_as_they_came(store):
    blob = new_id()
    assert store.parts(blob) == []
    store.put_part(blob, 1000, 1999, b"b" * 1000)
    store.put_part(blob, 0, 999, b"a" * 1000)
    store.put_part(blob, 0, 999, b"a" * 1000)  # again: the same object
    assert store.parts(blob) == [(0, 999), (1000, 1999)]
    assert store.read_part(blob, 1000, 1999) == b"b" * 1000
    assert store.upload_ids() == {blob}
    with pytest.raises(BlobMissing):
        store.read_part(blob, 2000, 2999)
    store.delete_parts(blob)
    assert store.parts(blob) == [] and store.upload_ids() == set()


def test_a_file_is_published_whole_and_deleted_with_its_chunks(store):
    blob, data = new_id(), jpeg_bytes(300_000, seed=1)
    assert not store.exists(blob)
    with pytest.raises(BlobMissing):
        store.read(blob)
    store.put_part(blob, 0, 9, data[:10])
    store.publish(blob, data)
    assert store.exists(blob) and store.read(blob) == data
    assert store.object_ids() == {blob}
    assert store.temp_objects() == []  # the temporary copy was moved, not left
    store.delete(blob)
    assert not store.exists(blob) and store.parts(blob) == [] and store.object_ids() == set()
    store.delete(blob)  # nothing there: no error


def test_readers_never_see_half_a_file(store):
    """While a large file is published over and over, every read finds
    either nothing or all of it."""
    blob = new_id()
    data = jpeg_bytes(2_000_000, seed=2)
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            try:
                seen.add(len(store.read(blob)))
            except BlobMissing:
                seen.add(0)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(5):
            store.publish(blob, data)
    finally:
        stop.set()
        reader.join()
    assert seen <= {0, len(data)} and len(data) in seen | {len(store.read(blob))}


def test_ids_that_are_not_ids_name_no_place(store):
    for bad in ("../../etc/passwd", "a/b", ""):
        with pytest.raises(ValueError):
            store.read(bad)


def test_the_url_chooses_the_store(tmp_path):
    assert isinstance(open_store("", str(tmp_path)), FileStore)
    assert open_store(f"file://{tmp_path}/x", str(tmp_path)).root == tmp_path / "x"
    s3 = open_store("s3://bucket/some/prefix/", str(tmp_path), "http://127.0.0.1:9")
    assert isinstance(s3, S3Store) and s3.bucket == "bucket" and s3.prefix == "some/prefix/"
    for bad in ("ftp://host/x", "s3:///nobucket", "bucket/prefix"):
        with pytest.raises(RuntimeError, match="FIELDVISIT_ATTACHMENTS_URL"):
            open_store(bad, str(tmp_path))
