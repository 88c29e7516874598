"""A local filesystem, reached as ``faulty:///path``, whose video uploads fail or hang on demand.

It stands in for an object store (our code publishes to it as it does to S3: staged locally, then
``put_file``) so a test can stop a delivery at an exact step: an upload that fails, or a worker
killed while the video uploads, after its sidecar and poster went up; or an upload that fails
because another writer's object landed at that key first (``"taken"``). Our own code is not replaced.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any, ClassVar

import fsspec
from fsspec.implementations.local import LocalFileSystem

PROTOCOL = "faulty"
#: Set in the environment: the file a hanging upload creates once it hangs.
HANG_MARKER = "KLING_TEST_HANG_MARKER"
#: What another writer put at a key while our upload of it failed (fault ``"taken"``).
OTHER_WRITERS_BYTES = b"written by someone else meanwhile"


class FaultyFileSystem(LocalFileSystem):
    """Uploads of files whose name ends with ``fault[1]`` fail (``fault[0] == "fail"``), hang for good (``"hang"``)
    or fail after another writer's file (:data:`OTHER_WRITERS_BYTES`) landed there (``"taken"``)."""

    protocol = (PROTOCOL,)
    fault: ClassVar[tuple[str, str] | None] = None

    def put_file(self, lpath: Any, rpath: Any, *args: Any, **kwargs: Any) -> None:
        if self.fault and str(rpath).endswith(self.fault[1]):
            if self.fault[0] == "taken":
                Path(self._strip_protocol(rpath)).write_bytes(OTHER_WRITERS_BYTES)
            if self.fault[0] in ("fail", "taken"):
                raise OSError(errno.EIO, f"injected failure uploading {rpath}")
            Path(os.environ[HANG_MARKER]).touch()
            while True:
                time.sleep(1)
        super().put_file(lpath, rpath, *args, **kwargs)


def register(fault: tuple[str, str] | None = None) -> None:
    """Make ``faulty://`` paths reachable in this process, failing as ``fault`` says (``("fail", ".mp4")``)."""
    from airflow.sdk.io import attach

    FaultyFileSystem.fault = fault
    fsspec.register_implementation(PROTOCOL, FaultyFileSystem, clobber=True)
    attach(PROTOCOL, fs=FaultyFileSystem())


def uri(path: Path) -> str:
    return f"{PROTOCOL}://{path}"
