"""The repository's scripts (``scripts/*.py``) loaded as modules, for tests."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from harness.airflow_env import REPO


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
