"""The provider is registered with Airflow: metadata, CLI listings, connection form."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_kling import __version__
from airflow_provider_kling.get_provider_info import get_provider_info

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def test_metadata_points_at_importable_modules():
    import importlib

    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-kling"
    assert info["versions"] == [__version__]
    for section in ("operators", "sensors", "hooks", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    conn = info["connection-types"][0]
    assert conn["connection-type"] == "kling"
    assert conn["ui-field-behaviour"]["relabeling"]["password"] == "API key"
    assert "login" in conn["ui-field-behaviour"]["hidden-fields"]


def test_ui_behaviour_matches_the_hooks_own_declaration():
    from airflow_provider_kling.hooks.kling import KlingHook

    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    hook = KlingHook.get_ui_field_behaviour()
    assert declared["hidden-fields"] == hook["hidden_fields"]
    assert declared["relabeling"] == hook["relabeling"]
    assert declared["placeholders"] == hook["placeholders"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["providers", "list"], "airflow-provider-kling"),
        (["providers", "hooks"], "airflow_provider_kling.hooks.kling.KlingHook"),
        (["providers", "triggers"], "airflow_provider_kling.triggers.kling"),
        (["providers", "links"], "airflow_provider_kling.operators.kling.KlingVideoLink"),
    ],
)
def test_airflow_cli_lists_the_provider(command, expected, tmp_path):
    result = subprocess.run(
        [AIRFLOW, *command, "--output", "plain"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
    )
    assert expected in result.stdout, result.stdout + result.stderr
