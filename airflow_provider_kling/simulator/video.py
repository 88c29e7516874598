"""The MP4 the simulator serves: the aspect ratio, length and sound the request asked for.

Rendered with ffmpeg (the ``media`` extra's ``imageio-ffmpeg``; 2 fps and a silent AAC track, a few
KB) and cached per shape. Clips can be told apart, as a storyboard's tests need: each shot is a
still colour derived from its prompt (:func:`clip_colour`; a ``multi_prompt`` generation shows
one colour per shot, in order), and the first frame of a video from an inline image is that
image. Without ffmpeg the bundled 160×90, 2 s sample is served whatever was asked, and
``/_sim/stats`` says so (``videos_rendered`` stays 0).
"""

from __future__ import annotations

import base64
import colorsys
import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from airflow_provider_kling.simulator.models import has_audio, is_image

SIZES = {"16:9": (160, 90), "9:16": (90, 160), "1:1": (120, 120)}
SHORT_SIDE = 90


FPS = 2


@dataclass(frozen=True)
class VideoShape:
    """Size, shots and sound of a rendered clip.

    :param shots: ``(colour, seconds)`` per shot, in order; ``colour`` as ``0xRRGGBB``.
    :param first_frame: the inline image the video starts from (image-to-video), as sent.
    """

    width: int
    height: int
    shots: tuple[tuple[str, int], ...]
    audio: bool
    first_frame: bytes | None = None

    @property
    def seconds(self) -> int:
        return sum(seconds for _, seconds in self.shots)


def shape_of(body: dict[str, Any]) -> VideoShape:
    """What the finished video of ``body`` looks like."""
    first_image = _inline_image(body.get("image_url"))
    width, height = SIZES.get(str(body.get("aspect_ratio")), (0, 0))
    if not width:
        width, height = (_scaled_size(first_image) if first_image else None) or SIZES["16:9"]
    shots = tuple((clip_colour(prompt), seconds) for prompt, seconds in _shots(body))
    return VideoShape(width, height, shots, has_audio(body), first_image)


def clip_colour(prompt: str) -> str:
    """The still colour a shot of ``prompt`` shows (``0xRRGGBB``): a hue from the prompt's hash."""
    digest = hashlib.sha256(prompt.strip().lower().encode()).digest()
    red, green, blue = colorsys.hsv_to_rgb(int.from_bytes(digest[:2], "big") / 65536, 0.8, 0.85)
    return f"0x{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def _shots(body: dict[str, Any]) -> list[tuple[str, int]]:
    """``(prompt, seconds)`` of each shot: ``multi_prompt``'s items, or the one prompt."""
    seconds = _seconds(body)
    items = body.get("multi_prompt")
    if not isinstance(items, list) or not items:
        return [(str(body.get("prompt") or ""), seconds)]
    if all(isinstance(item, dict) and "duration" in item for item in items):
        return [(str(item.get("prompt", "")), int(item["duration"])) for item in items]
    # Strings: the generation's duration shared out, whole seconds, the rest to the last shots.
    share, rest = divmod(seconds, len(items))
    return [(str(item), share + (1 if n >= len(items) - rest else 0)) for n, item in enumerate(items)]


def _seconds(body: dict[str, Any]) -> int:
    shots = body.get("multi_prompt")
    if isinstance(shots, list) and shots and all(isinstance(s, dict) and "duration" in s for s in shots):
        return sum(int(s["duration"]) for s in shots)
    try:
        return int(body.get("duration") or 5)
    except (TypeError, ValueError):
        return 5


def _inline_image(value: Any) -> bytes | None:
    """The image bytes of an inline (base64) ``image_url``; ``None`` for a URL or anything else."""
    if not isinstance(value, str) or value.startswith(("http://", "https://")):
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    return data if is_image(data) else None


def _scaled_size(image: bytes) -> tuple[int, int] | None:
    """A video from an inline image keeps the image's aspect ratio (scaled to a short side of 90)."""
    try:
        from PIL import Image

        with Image.open(BytesIO(image)) as picture:
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


@lru_cache(maxsize=256)
def render(shape: VideoShape) -> bytes | None:
    """The MP4 bytes of ``shape``, or ``None`` without ffmpeg."""
    exe = ffmpeg_exe()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kling-sim-") as folder:
        out = Path(folder) / "video.mp4"
        command = [exe, "-v", "error", "-y", *_inputs_and_filter(shape, Path(folder))]
        if shape.audio:
            silence = ["-f", "lavfi", "-t", str(shape.seconds), "-i", "anullsrc=r=8000:cl=mono"]
            command[command.index("-filter_complex") : command.index("-filter_complex")] = silence
            command += ["-map", f"{_audio_input(shape)}:a", "-c:a", "aac", "-b:a", "8k"]
        command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
        subprocess.run([*command, str(out)], check=True, capture_output=True, timeout=60)
        return out.read_bytes()


def _inputs_and_filter(shape: VideoShape, folder: Path) -> list[str]:
    """The ffmpeg inputs (one colour per shot, then the first-frame image) and the filter joining them."""
    size = f"{shape.width}x{shape.height}"
    inputs: list[str] = []
    for colour, seconds in shape.shots:
        inputs += ["-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={FPS}:d={seconds}"]
    labels = [f"[{n}:v]setsar=1,format=yuv420p[s{n}]" for n in range(len(shape.shots))]
    joined = [f"[s{n}]" for n in range(len(shape.shots))]
    if shape.first_frame is not None:
        image = folder / "first-frame"
        image.write_bytes(shape.first_frame)
        inputs += ["-loop", "1", "-t", str(1 / FPS), "-i", str(image)]
        first = len(shape.shots)
        # The input image, scaled to the video, replaces the first shot's first frame.
        labels[0] = "[0:v]setsar=1,format=yuv420p,trim=start_frame=1,setpts=PTS-STARTPTS[s0]"
        labels.append(
            f"[{first}:v]scale={shape.width}:{shape.height},setsar=1,fps={FPS},format=yuv420p,"
            f"trim=end_frame=1,setpts=PTS-STARTPTS[f]"
        )
        joined.insert(0, "[f]")
    graph = ";".join([*labels, f"{''.join(joined)}concat=n={len(joined)}:v=1:a=0[v]"])
    return [*inputs, "-filter_complex", graph, "-map", "[v]"]


def _audio_input(shape: VideoShape) -> int:
    """The index of the silent audio input: after the shots and the first-frame image."""
    return len(shape.shots) + (1 if shape.first_frame is not None else 0)
