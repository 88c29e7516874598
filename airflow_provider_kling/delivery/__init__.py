"""Getting a finished video into storage: download, verify, stage and publish, poster and probe.

* :mod:`.download` streams the signed URL in constant memory (:mod:`.hashing` hashes alongside);
* :mod:`.verify` checks the bytes (``Content-Length``, the MP4 ``ftyp`` signature);
* :mod:`.storage` stages and publishes atomically to any object storage, with a JSON sidecar;
* :mod:`.media` makes a poster frame and probes the video (``media`` extra);
* :mod:`.deliver` puts them in order and refreshes an expired URL.
"""

from __future__ import annotations

from airflow_provider_kling.delivery.deliver import Delivery, deliver_video

__all__ = ["Delivery", "deliver_video"]
