"""Getting a finished video into storage: download, verify, stage and publish, poster and probe.

* :mod:`.download` streams the signed URL in constant memory (:mod:`.hashing` hashes alongside);
* :mod:`.verify` checks the bytes (``Content-Length``, the MP4 ``ftyp`` signature);
* :mod:`.destination` checks a destination before any request (names, folder, the user's files);
* :mod:`.ownership` tells the product's files from the user's (the sidecar records each it wrote);
* :mod:`.storage` stages and publishes one file atomically to any object storage;
* :mod:`.scratch` gives a task a private folder on the worker's disk, swept if a killed worker left it;
* :mod:`.publish` publishes a video and the files beside it as one, all or nothing;
* :mod:`.media` makes a poster frame and probes the video (``media`` extra);
* :mod:`.deliver` puts them in order and refreshes an expired URL;
* :mod:`.reports` writes a batch's report beside its videos, over the product's own earlier report only.
"""

from __future__ import annotations

from airflow_provider_kling.delivery.deliver import Delivery, deliver_video

__all__ = ["Delivery", "deliver_video"]
