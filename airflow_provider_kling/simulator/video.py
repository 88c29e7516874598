"""The MP4 the simulator serves: the aspect ratio, length and sound the request asked for.

Rendered once per shape with ffmpeg (the ``media`` extra's ``imageio-ffmpeg``; a still colour at
2 fps and a silent AAC track, a few KB) and cached. Without ffmpeg the bundled 160×90, 2 s sample
is served whatever was asked, and ``/_sim/stats`` says so (``videos_rendered`` stays 0).
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from airflow_provider_kling.simulator.models import has_audio, is_image

SIZES = {"16:9": (160, 90), "9:16": (90, 160), "1:1": (120, 120)}
SHORT_SIDE = 90


@dataclass(frozen=True)
class VideoShape:
    """Size, length and frame rate of a rendered clip."""

    width: int
    height: int
    seconds: int
    audio: bool


def shape_of(body: dict[str, Any]) -> VideoShape:
    """What the finished video of ``body`` looks like."""
    width, height = SIZES.get(str(body.get("aspect_ratio")), (0, 0))
    if not width:
        width, height = _from_first_image(body) or SIZES["16:9"]
    return VideoShape(width, height, _seconds(body), has_audio(body))


def _seconds(body: dict[str, Any]) -> int:
    shots = body.get("multi_prompt")
    if isinstance(shots, list) and shots and all(isinstance(s, dict) and "duration" in s for s in shots):
        return sum(int(s["duration"]) for s in shots)
    try:
        return int(body.get("duration") or 5)
    except (TypeError, ValueError):
        return 5


def _from_first_image(body: dict[str, Any]) -> tuple[int, int] | None:
    """A video from an inline image keeps the image's aspect ratio (scaled to a short side of 90)."""
    value = body.get("image_url")
    if not isinstance(value, str) or value.startswith(("http://", "https://")):
        return None
    try:
        data = base64.b64decode(value, validate=True)
        if not is_image(data):
            return None
        from PIL import Image

        with Image.open(BytesIO(data)) as picture:
            width, height = picture.size
    except Exception:
        return None
    scale = SHORT_SIDE / min(width, height)
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def ffmpeg_exe() -> str | None:
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@cache
def render(shape: VideoShape) -> bytes | None:
    """The MP4 bytes of ``shape``, or ``None`` without ffmpeg."""
    exe = ffmpeg_exe()
    if exe is None:
        return None
    size, seconds = f"{shape.width}x{shape.height}", str(shape.seconds)
    command = [exe, "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x3060a0:s={size}:r=2:d={seconds}"]
    if shape.audio:
        command += ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", seconds, "-c:a", "aac", "-b:a", "8k"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    with tempfile.TemporaryDirectory(prefix="kling-sim-") as folder:
        out = Path(folder) / "video.mp4"
        subprocess.run([*command, str(out)], check=True, capture_output=True, timeout=60)
        return out.read_bytes()
