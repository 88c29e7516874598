"""Where videos and the files beside them go: their names, and the names that cannot work (pure).

Every file the product writes beside a video is named after the video's *full* file name, so no
two videos share one and no photo or other file of yours is ever one of them: ``mug.mp4`` ->
``mug.mp4.kling.json`` (the sidecar), ``mug.mp4.poster.jpg``, ``mug.mp4.contact-sheet.jpg``
(storyboards) and ``mug.mp4.review.json`` (a review's decision). :func:`companion_names` is the
one place that spells them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from airflow_provider_kling.exceptions import KlingValidationError

VIDEO_SUFFIX = ".mp4"
SIDECAR = "sidecar"
POSTER = "poster"
CONTACT_SHEET = "contact_sheet"
REVIEW = "review"
#: What each companion adds to the video's full file name.
COMPANION_SUFFIXES = {
    SIDECAR: ".kling.json",
    POSTER: ".poster.jpg",
    CONTACT_SHEET: ".contact-sheet.jpg",
    REVIEW: ".review.json",
}
#: The companions a delivery writes (the review record is written by a review, not a delivery).
DELIVERED_COMPANIONS = (POSTER, CONTACT_SHEET)
#: Filesystems allow 255 bytes per name (NAME_MAX) and 4096 per path, its final NUL included (PATH_MAX).
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4095
#: A staged file is ``.<name>.<12 hex digits>.part`` beside the file it becomes.
STAGING_EXTRA_BYTES = len(".") + len(".0123456789ab.part")
#: The longest video name made from a generation id (:func:`video_file_name`).
LONGEST_GENERATED_NAME = "x" * 120 + VIDEO_SUFFIX

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LINE_SEPARATORS = {"\u2028", "\u2029"}


def companion_name(video_name: str, kind: str) -> str:
    """The file name of ``video_name``'s companion ``kind`` (``sidecar``, ``poster``, ``contact_sheet``, ``review``)."""
    return video_name + COMPANION_SUFFIXES[kind]


def companion_names(video_name: str) -> dict[str, str]:
    """Every companion of ``video_name``, by kind."""
    return {kind: companion_name(video_name, kind) for kind in COMPANION_SUFFIXES}


def video_file_name(generation_id: str) -> str:
    """A file name for a generation's video; ids are opaque, so only safe characters are kept."""
    slug = _UNSAFE.sub("_", generation_id).strip("._") or "kling-video"
    return f"{slug[:120]}{VIDEO_SUFFIX}"


def name_problems(location: str) -> list[str]:
    """Control characters (NUL, newline, ...) in ``location``: no file should be named with them."""
    bad = sorted({f"U+{ord(char):04X}" for char in location if _is_control(char)})
    if bad:
        return [f"destination {location!a} contains control characters ({', '.join(bad)}): rename it"]
    return []


def destination_problems(location: str, *, folder: bool = False) -> list[str]:
    """What makes ``location`` (a path, or an object store's ``bucket/key``) unusable for a video; empty when usable.

    Checked: control characters (NUL, newline ...), the length of each name and of the whole path
    once the longest companion and staging names are added, and that a file destination ends in
    ``.mp4``.

    :param folder: ``location`` is a folder the video is named inside (after its generation).
    """
    problems = name_problems(location)
    if problems:
        return problems
    shown = ascii(location)
    path = location.rstrip("/") + "/" + LONGEST_GENERATED_NAME if folder else location
    name = path.rsplit("/", 1)[-1]
    if not folder and (not name.lower().endswith(VIDEO_SUFFIX) or len(name) <= len(VIDEO_SUFFIX)):
        problems.append(f"destination {shown} must name an .mp4 file (or end with '/' to name a folder)")
    longest_extra = max(len(suffix) for suffix in COMPANION_SUFFIXES.values()) + STAGING_EXTRA_BYTES
    if any(_bytes(part) > MAX_NAME_BYTES for part in path.split("/")[:-1]):
        problems.append(f"destination {shown} has a folder name over {MAX_NAME_BYTES} bytes")
    elif not folder and _bytes(name) + longest_extra > MAX_NAME_BYTES:
        problems.append(
            f"destination {shown}: its file name is {_bytes(name)} bytes; at most "
            f"{MAX_NAME_BYTES - longest_extra} leave room for the files written beside it "
            f"(such as <name>{COMPANION_SUFFIXES[CONTACT_SHEET]})"
        )
    if _bytes(path) + longest_extra > MAX_PATH_BYTES:
        problems.append(f"destination {shown} is too long: paths are at most {MAX_PATH_BYTES} bytes")
    return problems


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in _LINE_SEPARATORS


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def clip_for(image: str, output: str | None = None) -> str:
    """Where the clip of the photo ``image`` goes: beside it as ``<stem>.mp4``, or in ``output`` for a URL.

    :raises KlingValidationError: for a URL photo without ``output``.
    """
    is_url = image.startswith(("http://", "https://"))
    path = image.split("?", 1)[0] if is_url else image  # only a URL has a query: elsewhere '?' is a name's
    name = path.rstrip("/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if not is_url:
        return f"{path.rstrip('/')[: len(path.rstrip('/')) - len(name)]}{stem}{VIDEO_SUFFIX}"
    if not output:
        raise KlingValidationError([f"photo {image} is a URL: name an output folder for its clip"])
    return f"{output.rstrip('/')}/{stem}{VIDEO_SUFFIX}"


def clip_clashes(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """One sentence per two photos of ``(photo, clip)`` pairs that would make one clip.

    Names equal but for their extension (``mug.jpg``, ``mug.png``) or for case (some filesystems
    ignore it) are one clip.
    """
    return [
        f"{pairs[first][0]} and {pairs[second][0]} would both make the clip {pairs[second][1]}: rename one of them"
        for first, second in same_file_clashes(clip for _, clip in pairs)
    ]


def clip_destinations(images: Sequence[str], output: str | None = None) -> list[tuple[str, str]]:
    """Each photo and where its clip goes (:func:`clip_for`), refusing two photos that make one clip.

    :param images: photo paths or URIs, or ``http(s)`` URLs.
    :param output: the folder for the clips of URL photos (they have no folder of their own).
    :raises KlingValidationError: naming every two photos that would share a clip, and URL photos
        without ``output``.
    """
    pairs = [(image, clip_for(image, output)) for image in images]
    clashes = clip_clashes(pairs)
    if clashes:
        raise KlingValidationError(clashes)
    return pairs


def same_file_clashes(names: Iterable[str]) -> list[tuple[int, int]]:
    """Pairs of positions ``(earlier, later)`` whose names are one file where case is ignored."""
    seen: dict[str, int] = {}
    clashes = []
    for position, name in enumerate(names):
        key = name.casefold()
        if key in seen:
            clashes.append((seen[key], position))
        else:
            seen[key] = position
    return clashes
