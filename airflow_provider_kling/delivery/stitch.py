"""Clips joined into one MP4, and the last frame of a clip (ffmpeg from the ``media`` extra).

A storyboard's shots come from different models and settings: sizes, frame rates and sound
differ. :func:`stitch` makes them uniform (the first clip's size unless told, letterboxed rather
than stretched; one frame rate; silence where a clip has none) and joins them, with an optional
crossfade; :func:`verify_stitched` decodes the result and checks its length and frame before it
is delivered. :func:`last_frame` gives a clip's final frame, losslessly, to start the next shot.
Every ffmpeg run has a time limit (the ``*_TIMEOUT`` constants, seconds): past it ffmpeg is
stopped and :class:`StitchTimeout` says what took too long; nothing it was writing is left.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_kling.delivery.scratch import scratch_folder
from airflow_provider_kling.exceptions import KlingTransientError

AUDIO_RATE = 48000
#: Seconds ffmpeg may take to decode a clip end to end (its length and frame rate are read so).
PROBE_TIMEOUT = 120.0
#: Seconds ffmpeg may take to join the clips (re-encoding them all).
STITCH_TIMEOUT = 600.0
#: Seconds ffmpeg may take to give a clip's last frame.
FRAME_TIMEOUT = 120.0
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+.*: Audio: ")
_VIDEO_STREAM = re.compile(r"Stream #\d+:\d+.*: Video: .*")
_SIZE = re.compile(r" (\d+)x(\d+)[, ]")
_FPS = re.compile(r" (\d+(?:\.\d+)?) fps")


class StitchError(RuntimeError):
    """ffmpeg could not read or join the clips, or the joined video is not what was asked for."""


class StitchTimeout(StitchError, KlingTransientError):
    """An ffmpeg run took longer than its limit and was stopped.

    Transient: a busy or slow worker is the usual cause, and a retry pays for nothing again (the
    storyboard's shots are reattached to), so the task is left to Airflow's ``retries``.
    """


@dataclass(frozen=True)
class ClipInfo:
    """What a clip is made of, as ffmpeg reads it."""

    width: int
    height: int
    fps: float
    seconds: float
    audio: bool


@dataclass(frozen=True)
class StitchPlan:
    """The uniform frame every clip is brought to, and how clips meet."""

    width: int
    height: int
    fps: float
    crossfade: float = 0.0


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def clip_info(path: Path) -> ClipInfo:
    """Size, frame rate and length of ``path`` (by decoding it) and whether it has sound.

    :raises StitchError: when ffmpeg cannot decode it (:class:`StitchTimeout`: not in time).
    """
    command = [ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:v:0", "-vf", "null"]
    command += ["-progress", "pipe:1", "-f", "null", "-"]
    result = run_ffmpeg(command, doing=f"decoding {path.name}", timeout=PROBE_TIMEOUT)
    header = result.stderr.decode(errors="replace").split("Stream mapping:")[0]  # the input's streams
    progress = dict(line.split("=", 1) for line in result.stdout.decode(errors="replace").splitlines() if "=" in line)
    video = _VIDEO_STREAM.search(header)
    size = _SIZE.search(video.group(0)) if video else None
    if result.returncode != 0 or video is None or size is None or not progress.get("out_time_us", "").isdigit():
        raise StitchError(f"ffmpeg cannot decode {path.name}: {header[-300:]}")
    seconds, frames = int(progress["out_time_us"]) / 1e6, progress.get("frame", "")
    fps = _FPS.search(video.group(0))
    rate = float(fps.group(1)) if fps else (int(frames) / seconds if seconds and frames.isdigit() else 0.0)
    return ClipInfo(int(size.group(1)), int(size.group(2)), rate, seconds, bool(_AUDIO_STREAM.search(header)))


def run_ffmpeg(command: Sequence[str], *, doing: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` (its output captured), stopping it after ``timeout`` seconds.

    :param doing: what it does, for the error (``"joining 3 clips"``).
    :raises StitchTimeout: naming what took too long and the limit.
    """
    try:
        return subprocess.run(list(command), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise StitchTimeout(f"ffmpeg was stopped after {timeout:g} s {doing}: it took too long") from err


def plan_for(
    clips: Sequence[ClipInfo], *, size: tuple[int, int] | None = None, fps: float | None = None, crossfade: float = 0.0
) -> StitchPlan:
    """The frame to join ``clips`` in: the first clip's size and the highest frame rate, unless given.

    The crossfade is kept to the millisecond (ffmpeg reads no exponent; a shorter one is a cut).
    """
    if not clips:
        raise StitchError("nothing to stitch: no clips")
    shortest = min(clip.seconds for clip in clips)
    crossfade = round(crossfade, 3)
    if not 0 <= crossfade < (shortest if len(clips) > 1 else math.inf):  # NaN fails every comparison
        raise StitchError(f"crossfade must be at least 0 and shorter than the shortest clip ({shortest:.2f} s)")
    width, height = size or (clips[0].width, clips[0].height)
    return StitchPlan(_even(width), _even(height), fps or max(clip.fps for clip in clips), crossfade)


def expected_seconds(clips: Sequence[ClipInfo], plan: StitchPlan) -> float:
    """How long the joined video is: the clips end to end, less each crossfade's overlap."""
    return sum(clip.seconds for clip in clips) - plan.crossfade * (len(clips) - 1)


def stitch(paths: Sequence[Path], out: Path, plan: StitchPlan, clips: Sequence[ClipInfo]) -> None:
    """Join ``paths`` (described by ``clips``) into ``out`` in ``plan``'s frame.

    ``out`` appears whole or not at all (written beside it, then renamed).

    :raises StitchError: when ffmpeg fails (:class:`StitchTimeout`: not in time).
    """
    with_sound = any(clip.audio for clip in clips)
    command = [ffmpeg(), "-hide_banner", "-v", "error", "-y"]
    for path in paths:
        command += ["-i", str(path)]
    for clip in clips:  # one silent track per clip without sound, as long as the clip
        if with_sound and not clip.audio:
            command += ["-f", "lavfi", "-t", f"{clip.seconds:.3f}", "-i", f"anullsrc=r={AUDIO_RATE}:cl=stereo"]
    command += ["-filter_complex", filter_graph(plan, clips), "-map", "[v]"]
    if with_sound:
        command += ["-map", "[a]", "-c:a", "aac", "-b:a", "128k"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".mp4", dir=out.parent)
    os.close(fd)
    try:
        doing = f"joining {len(paths)} clips into {out.name}"
        result = run_ffmpeg([*command, partial], doing=doing, timeout=STITCH_TIMEOUT)
        if result.returncode != 0:
            raise StitchError(f"ffmpeg could not join the clips: {result.stderr.decode(errors='replace')[-500:]}")
        os.replace(partial, out)
    finally:
        Path(partial).unlink(missing_ok=True)


def filter_graph(plan: StitchPlan, clips: Sequence[ClipInfo]) -> str:
    """The ffmpeg filter graph bringing each clip to ``plan`` and joining them (``[v]``, ``[a]``)."""
    with_sound = any(clip.audio for clip in clips)
    frame = (
        f"scale={plan.width}:{plan.height}:force_original_aspect_ratio=decrease,"
        f"pad={plan.width}:{plan.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={plan.fps:g},format=yuv420p,"
        "settb=AVTB,setpts=PTS-STARTPTS"
    )
    sound = f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,asetpts=PTS-STARTPTS"
    parts, silent = [], len(clips)
    for n, clip in enumerate(clips):
        parts.append(f"[{n}:v]{frame}[v{n}]")
        if with_sound:
            source = f"{n}:a" if clip.audio else f"{silent}:a"
            silent += 0 if clip.audio else 1
            parts.append(f"[{source}]{sound}[a{n}]")
    parts += _joins(plan, clips, with_sound)
    return ";".join(parts)


def _joins(plan: StitchPlan, clips: Sequence[ClipInfo], with_sound: bool) -> list[str]:
    count = len(clips)
    if plan.crossfade == 0 or count == 1:
        streams = "".join(f"[v{n}]" + (f"[a{n}]" if with_sound else "") for n in range(count))
        outputs = "[v][a]" if with_sound else "[v]"
        return [f"{streams}concat=n={count}:v=1:a={int(with_sound)}{outputs}"]
    joins, video, audio, offset = [], "[v0]", "[a0]", 0.0
    for n in range(1, count):
        offset += clips[n - 1].seconds - plan.crossfade
        last = n == count - 1
        joined_video, joined_audio = ("[v]", "[a]") if last else (f"[xv{n}]", f"[xa{n}]")
        joins.append(
            f"{video}[v{n}]xfade=transition=fade:duration={plan.crossfade:.3f}:offset={offset:.3f}{joined_video}"
        )
        if with_sound:
            joins.append(f"{audio}[a{n}]acrossfade=d={plan.crossfade:.3f}{joined_audio}")
        video, audio = joined_video, joined_audio
    return joins


def verify_stitched(path: Path, plan: StitchPlan, clips: Sequence[ClipInfo]) -> ClipInfo:
    """Decode ``path`` and check it against what was joined; its :class:`ClipInfo` when it holds.

    Its length must be the clips' (less crossfades) within one frame per cut, its frame the plan's.

    :raises StitchError: naming what differs.
    """
    joined = clip_info(path)
    expected = expected_seconds(clips, plan)
    tolerance = len(clips) / plan.fps
    problems = []
    if abs(joined.seconds - expected) > tolerance:
        problems.append(f"lasts {joined.seconds:.2f} s, not {expected:.2f} s (± {tolerance:.2f})")
    if (joined.width, joined.height) != (plan.width, plan.height):
        problems.append(f"is {joined.width}x{joined.height}, not {plan.width}x{plan.height}")
    if abs(joined.fps - plan.fps) > 0.01:
        problems.append(f"plays at {joined.fps:g} fps, not {plan.fps:g}")
    if joined.audio != any(clip.audio for clip in clips):
        problems.append("has sound where none was joined" if joined.audio else "lost the clips' sound")
    if problems:
        raise StitchError(f"the joined video {path.name} " + "; ".join(problems))
    return joined


def last_frame(path: Path, *, min_short_side: int = 0) -> bytes:
    """The final frame of ``path`` as PNG bytes: the next shot starts from exactly it.

    :param min_short_side: enlarge (nearest neighbour, aspect kept) a frame whose shorter side is
        below this many pixels: the API refuses smaller images (Kling's clips are 720p and more, so
        only small test clips are ever enlarged).
    :raises StitchError: when ffmpeg cannot read one (:class:`StitchTimeout`: not in time).
    """
    command = [ffmpeg(), "-hide_banner", "-v", "error", "-sseof", "-1", "-i", str(path), "-update", "1"]
    if min_short_side:
        side = str(min_short_side)
        scale = f"scale='if(lt(iw,ih),max(iw,{side}),-2)':'if(lt(iw,ih),-2,max(ih,{side}))':flags=neighbor"
        command += ["-vf", scale]
    with scratch_folder("frame-") as folder:
        out = folder / "last.png"
        command += ["-f", "image2", "-c:v", "png", str(out)]
        result = run_ffmpeg(command, doing=f"reading the last frame of {path.name}", timeout=FRAME_TIMEOUT)
        if result.returncode != 0 or not out.exists():
            stderr = result.stderr.decode(errors="replace")[-300:]
            raise StitchError(f"ffmpeg could not read the last frame of {path.name}: {stderr}")
        return out.read_bytes()


def _even(value: int) -> int:
    return max(2, value - value % 2)
