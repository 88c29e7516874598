"""Shared by the batch tests: a plan of a few rows, priced by hand, and a video delivered as the product leaves it."""

from __future__ import annotations

import hashlib
import json

from airflow_provider_kling.batch import plan_batch
from airflow_provider_kling.models.ownership import ownership_record
from tests.operators.conftest import fresh_prices

__all__ = ["fresh_prices"]

NAN, INF = float("nan"), float("inf")
GOOD = '{"output": "a", "prompt": "a fox", "duration": 5}'


def plan(*lines: str, output: str = "/tmp/nowhere-kling", **kwargs):
    return plan_batch("\n".join(lines), output=output, **kwargs)


def delivered(folder, name, generation_id):
    """A video with its sidecar, as the product leaves it."""
    video = b"\x00\x00\x00\x18ftypisom " + name.encode()
    (folder / f"{name}.mp4").write_bytes(video)
    files = {f"{name}.mp4": {"sha256": hashlib.sha256(video).hexdigest(), "size": len(video)}}
    sidecar = {"generation_id": generation_id, "probe": {"duration": 5.0}, **ownership_record(f"{name}.mp4", files, {})}
    (folder / f"{name}.mp4.kling.json").write_text(json.dumps(sidecar))


def priced(batch, *highs):
    for row, high in zip(batch["todo"], highs, strict=True):
        row["quote"] = {
            "low": high,
            "high": high,
            "basis": "no quote for m: its price is variable" if high is None else f"${high}",
        }
    return batch


SIX = [f'{{"output": "r{i}", "prompt": "p{i}"}}' for i in range(6)]


class NoAPI:
    def get_generation(self, generation_id):
        raise AssertionError("not called for delivered rows")
