"""Optional poster frame and probe, with the ``media`` extra (``imageio-ffmpeg``, a bundled ffmpeg).

Skipped cleanly when the extra is not installed: the video is what matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VideoProbe:
    """What ffmpeg says about a video, plus a JPEG still taken from it."""

    width: int | None
    height: int | None
    duration: float | None
    fps: float | None
    poster: bytes


def media_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def probe_and_poster(video: Path, *, timeout: float = 60) -> VideoProbe:
    """Read the video's size, duration and frame rate and grab a still from its middle (at most 1 s in).

    :raises RuntimeError: when ffmpeg cannot read the file.
    """
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(video))
    try:
        meta = next(frames)
    finally:
        frames.close()
    size = meta.get("size") or (None, None)
    duration = meta.get("duration")
    poster = still_at(video, max(0.0, min(1.0, (duration or 0) / 2)), timeout=timeout)
    return VideoProbe(
        width=size[0],
        height=size[1],
        duration=float(duration) if duration else None,
        fps=meta.get("fps"),
        poster=poster,
    )


def still_at(video: Path, seconds: float, *, timeout: float = 60) -> bytes:
    """A JPEG of the frame shown ``seconds`` into ``video`` (a poster, a contact sheet's still).

    :raises RuntimeError: when ffmpeg cannot read one.
    :raises StitchTimeout: when ffmpeg takes longer than ``timeout`` seconds (it is stopped).
    """
    import imageio_ffmpeg

    from airflow_provider_kling.delivery.stitch import run_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-ss", f"{seconds:.3f}"]
    command += ["-i", str(video), "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    result = run_ffmpeg(command, doing=f"taking a still {seconds:.2f} s into {video.name}", timeout=timeout)
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        stderr = result.stderr.decode(errors="replace")[-300:]
        raise RuntimeError(f"ffmpeg could not read a frame {seconds:.2f} s into {video.name}: {stderr}")
    return result.stdout
