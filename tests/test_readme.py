"""The README's Models table is the catalog's, row for row."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_kling.models.catalog import list_models
from harness.scripts import load_script

REPO = Path(__file__).resolve().parents[1]


def test_the_models_table_matches_the_catalog():
    script = load_script("models_table")
    readme = (REPO / "README.md").read_text()
    assert script.replaced(readme) == readme, "run python scripts/models_table.py"


def test_every_catalogued_model_has_a_row():
    readme = (REPO / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `") and ("legacy" in line or "unified" in line)]
    for spec in list_models():
        names = f"`{spec.id}`" + "".join(f"<br>also `{alias}`" for alias in spec.aliases)
        [row] = [row for row in rows if row.startswith(f"| {names} | {spec.mode} |")]
        paths = row.rstrip(" |").rsplit("|", 1)[-1].strip()
        assert paths == " · ".join(name for name in ("legacy", "unified") if name in spec.endpoints), spec.id
