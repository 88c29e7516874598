"""The README's Models table is the catalog's, row for row."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from airflow_provider_kling.models.catalog import list_models

REPO = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("models_table", REPO / "scripts" / "models_table.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_models_table_matches_the_catalog():
    script = load_script()
    readme = (REPO / "README.md").read_text()
    assert script.replaced(readme) == readme, "run python scripts/models_table.py"


def test_every_catalogued_model_has_a_row():
    readme = (REPO / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `") and ("legacy" in line or "unified" in line)]
    for spec in list_models():
        assert any(row.startswith(f"| `{spec.id}` | {spec.mode} |") for row in rows), spec.id
