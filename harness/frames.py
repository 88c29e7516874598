"""What a test sees in a video: the colour at the centre of each frame (ffmpeg decodes)."""

from __future__ import annotations

from pathlib import Path

Colour = tuple[int, int, int]


def centre_colours(video: Path) -> list[Colour]:
    """The RGB colour at the centre of every frame of ``video``, in order."""
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(video))
    width, height = next(frames)["size"]
    at = (height // 2 * width + width // 2) * 3
    return [(frame[at], frame[at + 1], frame[at + 2]) for frame in frames]


def rgb(colour: str) -> Colour:
    """``0xRRGGBB`` (the simulator's shot colours) as an RGB triple."""
    value = int(colour, 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def close(seen: Colour, wanted: Colour, tolerance: int = 12) -> bool:
    """Whether two colours match within the rounding a YUV 4:2:0 round trip makes."""
    return all(abs(a - b) <= tolerance for a, b in zip(seen, wanted, strict=True))


def runs(colours: list[Colour], palette: list[Colour]) -> list[int]:
    """Which colour of ``palette`` each run of frames shows, in order (-1: none of them)."""
    order: list[int] = []
    for colour in colours:
        index = next((n for n, wanted in enumerate(palette) if close(colour, wanted)), -1)
        if not order or order[-1] != index:
            order.append(index)
    return order
