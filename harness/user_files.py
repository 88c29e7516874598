"""The user's own files, fingerprinted before a run and compared after: never touched means byte-identical."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def fingerprints(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under ``folder``, by path relative to it."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def changed(before: dict[str, str], folder: Path) -> list[str]:
    """The files of ``before`` that are gone or differ now."""
    after = fingerprints(folder)
    return [name for name, sha in before.items() if after.get(name) != sha]


def files_left(folder: Path) -> list[str]:
    """Every file under ``folder`` (links to folders are not followed): what a task left behind there."""
    return sorted(os.path.join(parent, name) for parent, _, names in os.walk(folder) for name in names)
