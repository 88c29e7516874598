"""SHA-256 of a download (computed on a worker thread while the caller receives and writes) or a file."""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import Any


class BackgroundHasher:
    """SHA-256 of download chunks, computed on a worker thread while the caller reads and writes.

    Hashing is the longest single step of a download; receiving and writing together take about as
    long. Splitting the work this way, rather than handing both hashing and writing to the worker,
    balances the two threads (``hashlib`` releases the GIL on large chunks); ``bench/download.py``
    measures it against ``curl -o``. The queue is bounded, so at most ``depth`` chunks wait and
    memory stays flat whatever the size.

    :param depth: how many chunks may wait for the hasher.
    """

    def __init__(self, depth: int = 4) -> None:
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._work, name="kling-download-hasher", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._digest.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        """Wait for every chunk to be hashed; return the SHA-256 of all of them."""
        self._stop()
        return self._digest.hexdigest()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def __enter__(self) -> BackgroundHasher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()  # also on errors: never leave a thread behind


def file_sha256(path: Any) -> str:
    """SHA-256 of a file, read in 1 MiB chunks: a local ``Path`` or any stored path with ``open("rb")``."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
