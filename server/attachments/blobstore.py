"""Where attachment bytes are kept: one small interface, two real backends.

``FileStore`` keeps them on the local file system (under ``instance/`` by
default: one machine); ``S3Store`` in S3-compatible object storage through
boto3 (many workers on many machines, all seeing the same bytes). Both keep
three kinds of object per attachment id:

* ``parts/<id>/<first>-<last>`` — the chunks of an upload in progress, one
  object per chunk as it arrived (so a retried or overlapping chunk can be
  compared with what is held, and ``missing`` computed from the names);
* ``objects/<id>`` — the verified file, the only thing a reader is given;
* ``tmp/<random>.<id>`` — a file being written. ``publish`` writes there
  and then moves it to ``objects/<id>``, so a reader never sees half a
  file; what a crash leaves there is removed by ``flask attachments
  purge`` (``retention.sweep``).

Every write of a whole object is atomic in both backends (a rename on the
file system, a single PUT or COPY in S3), so concurrent requests for the
same attachment can at worst store the same bytes twice, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PART_NAME = re.compile(r"^(\d{12})-(\d{12})\Z")
ID_PATTERN = re.compile(r"^[0-9a-f-]{36}\Z")


class BlobMissing(LookupError):
    """The object asked for is not (or no longer) in the store."""


def part_name(first: int, last: int) -> str:
    return f"{first:012d}-{last:012d}"


def parse_part(name: str) -> tuple[int, int] | None:
    found = PART_NAME.match(name)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _checked(blob_id: str) -> str:
    # Ids reach here from the database, but a path is built from them: never
    # let one name a place outside the store.
    if not ID_PATTERN.match(blob_id):
        raise ValueError("not an attachment id")
    return blob_id


@dataclass(frozen=True)
class TempObject:
    name: str
    age_s: float


class BlobStore:
    """What the content endpoints and retention need of a store."""

    description = "blob store"

    def put_part(self, blob_id: str, first: int, last: int, data: bytes) -> None:
        raise NotImplementedError

    def parts(self, blob_id: str) -> list[tuple[int, int]]:
        raise NotImplementedError

    def read_part(self, blob_id: str, first: int, last: int) -> bytes:
        raise NotImplementedError

    def delete_parts(self, blob_id: str) -> None:
        raise NotImplementedError

    def publish(self, blob_id: str, data: bytes) -> None:
        """Write ``data`` to a temporary object, then move it into place."""
        raise NotImplementedError

    def read(self, blob_id: str) -> bytes:
        raise NotImplementedError

    def exists(self, blob_id: str) -> bool:
        raise NotImplementedError

    def delete(self, blob_id: str, parts: bool = True) -> None:
        """Delete the file (and, unless ``parts`` is false, every chunk held
        of it); nothing there is no error."""
        raise NotImplementedError

    # -- housekeeping (retention.sweep) -------------------------------------

    def object_ids(self) -> set[str]:
        raise NotImplementedError

    def upload_ids(self) -> set[str]:
        """Ids that have parts held."""
        raise NotImplementedError

    def temp_objects(self) -> list[TempObject]:
        raise NotImplementedError

    def delete_temp(self, name: str) -> None:
        raise NotImplementedError


class FileStore(BlobStore):
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.description = f"file system at {self.root}"
        for sub in ("objects", "parts", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def _object(self, blob_id: str) -> Path:
        return self.root / "objects" / _checked(blob_id)

    def _parts_dir(self, blob_id: str) -> Path:
        return self.root / "parts" / _checked(blob_id)

    def _write_then_move(self, data: bytes, target: Path, blob_id: str) -> None:
        temp = self.root / "tmp" / f"{uuid.uuid4().hex}.{blob_id}"
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            for attempt in range(3):
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(temp, target)
                    return
                except FileNotFoundError:
                    # The folder was removed meanwhile (the upload finished or
                    # was discarded by another request): make it again.
                    if attempt == 2:
                        raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def put_part(self, blob_id, first, last, data):
        self._write_then_move(data, self._parts_dir(blob_id) / part_name(first, last), blob_id)

    def parts(self, blob_id):
        try:
            names = os.listdir(self._parts_dir(blob_id))
        except FileNotFoundError:
            return []
        return sorted(p for p in map(parse_part, names) if p is not None)

    def read_part(self, blob_id, first, last):
        try:
            return (self._parts_dir(blob_id) / part_name(first, last)).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(blob_id) from None

    def delete_parts(self, blob_id):
        folder = self._parts_dir(blob_id)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
        with contextlib.suppress(OSError):  # gone already, or a chunk just arrived
            folder.rmdir()

    def publish(self, blob_id, data):
        self._write_then_move(data, self._object(blob_id), blob_id)

    def read(self, blob_id):
        try:
            return self._object(blob_id).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(blob_id) from None

    def exists(self, blob_id):
        return self._object(blob_id).is_file()

    def delete(self, blob_id, parts=True):
        with contextlib.suppress(FileNotFoundError):
            self._object(blob_id).unlink()
        if parts:
            self.delete_parts(blob_id)

    def object_ids(self):
        return set(os.listdir(self.root / "objects"))

    def upload_ids(self):
        return {name for name in os.listdir(self.root / "parts")}

    def temp_objects(self):
        now = time.time()
        found = []
        for entry in os.scandir(self.root / "tmp"):
            with contextlib.suppress(FileNotFoundError):
                found.append(TempObject(entry.name, now - entry.stat().st_mtime))
        return found

    def delete_temp(self, name):
        if "/" in name or name.startswith("."):
            raise ValueError("not a temporary object's name")
        with contextlib.suppress(FileNotFoundError):
            (self.root / "tmp" / name).unlink()


class S3Store(BlobStore):
    """S3 or any server speaking its API (MinIO, Ceph, moto...), through boto3.
    Credentials and region come the usual way (``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, profiles...)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None):
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client("s3", endpoint_url=endpoint_url, config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=10, read_timeout=60))
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"

    def _key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def _list(self, prefix: str):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", ())

    def _get(self, key: str, blob_id: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise BlobMissing(blob_id) from None

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = keys[start:start + 1000]
            if batch:
                self.client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": k} for k in batch], "Quiet": True})

    def put_part(self, blob_id, first, last, data):
        self.client.put_object(Bucket=self.bucket, Body=data,
                               Key=self._key("parts", _checked(blob_id), part_name(first, last)))

    def parts(self, blob_id):
        prefix = self._key("parts", _checked(blob_id)) + "/"
        found = (parse_part(item["Key"][len(prefix):]) for item in self._list(prefix))
        return sorted(p for p in found if p is not None)

    def read_part(self, blob_id, first, last):
        return self._get(self._key("parts", _checked(blob_id), part_name(first, last)), blob_id)

    def delete_parts(self, blob_id):
        prefix = self._key("parts", _checked(blob_id)) + "/"
        self._delete_keys([item["Key"] for item in self._list(prefix)])

    def publish(self, blob_id, data):
        temp = self._key("tmp", f"{uuid.uuid4().hex}.{_checked(blob_id)}")
        self.client.put_object(Bucket=self.bucket, Key=temp, Body=data)
        try:
            self.client.copy_object(Bucket=self.bucket, Key=self._key("objects", blob_id),
                                    CopySource={"Bucket": self.bucket, "Key": temp})
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=temp)

    def read(self, blob_id):
        return self._get(self._key("objects", _checked(blob_id)), blob_id)

    def exists(self, blob_id):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key("objects", _checked(blob_id)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, blob_id, parts=True):
        self.client.delete_object(Bucket=self.bucket, Key=self._key("objects", _checked(blob_id)))
        if parts:
            self.delete_parts(blob_id)

    def object_ids(self):
        prefix = self._key("objects") + "/"
        return {item["Key"][len(prefix):] for item in self._list(prefix)}

    def upload_ids(self):
        prefix = self._key("parts") + "/"
        return {item["Key"][len(prefix):].split("/", 1)[0] for item in self._list(prefix)}

    def temp_objects(self):
        prefix = self._key("tmp") + "/"
        now = time.time()
        return [TempObject(item["Key"][len(prefix):], now - item["LastModified"].timestamp())
                for item in self._list(prefix)]

    def delete_temp(self, name):
        if "/" in name:
            raise ValueError("not a temporary object's name")
        self.client.delete_object(Bucket=self.bucket, Key=self._key("tmp", name))


def open_store(url: str, instance_path: str, endpoint_url: str | None = None) -> BlobStore:
    """The store ``url`` names (README, "Attachments"): empty for
    ``instance/attachments``, ``file:///path`` or ``s3://bucket/prefix``."""
    if not url:
        return FileStore(Path(instance_path) / "attachments")
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return FileStore(parts.path)
    if parts.scheme == "s3" and parts.netloc:
        return S3Store(parts.netloc, parts.path, endpoint_url=endpoint_url)
    raise RuntimeError(f"FIELDVISIT_ATTACHMENTS_URL={url!r}: use file:///path or "
                       "s3://bucket/prefix (or leave it empty for instance/attachments)")
