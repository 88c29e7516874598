"""DAG files import our operators while Airflow parses them: heavy modules must not come along."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "airflow_provider_kling"

HEAVY = [
    "aiohttp",
    "requests",
    "airflow_provider_kling.hooks.kling",
    "airflow_provider_kling.simulator.app",
    "imageio_ffmpeg",
    "PIL",
    "airflow_provider_kling.delivery",
]


@pytest.mark.parametrize(
    "statement",
    [
        "import airflow_provider_kling",
        "import airflow_provider_kling.operators.kling",
        "import airflow_provider_kling.operators.storyboard",
        "import airflow_provider_kling.sensors.kling",
        "import airflow_provider_kling.decorators.kling_video",
        "import airflow_provider_kling.get_provider_info",
    ],
)
def test_parse_time_imports_stay_light(statement):
    probe = f"import sys, airflow.sdk\nbefore = set(sys.modules)\n{statement}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in before))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


#: Every module the package imports inside a function, and why it is not at the top of the file.
#: Anything else is imported at the top: a light module gains nothing from hiding in a function.
LAZY = {
    "requests": "HTTP client: only a hook talks to the API (DAG parsing must not load it)",
    "urllib3.exceptions": "requests' transport: only needed to classify a failed request",
    "requests_toolbelt.adapters.socket_options": "requests add-on: only the CDN download session uses it",
    "aiohttp": "async HTTP client: only the triggerer polls with it",
    "yarl": "aiohttp's URL type, for the trigger's status URLs: triggerer only",
    "jsonschema": "schema validation: only when a task validates its request",
    "PIL": "Pillow: only when an image is read to be sent inline",
    "imageio_ffmpeg": "ffmpeg wrapper: only when a video is probed or joined, or a frame taken from it",
    "airflow_provider_kling.hooks.kling": "the hook pulls requests: built on first use by a running task",
    "airflow_provider_kling.hooks.kling_async": "the async hook pulls aiohttp: triggerer only",
    "airflow_provider_kling.hooks.async_session": "the shared aiohttp session: triggerer only",
    "airflow_provider_kling.hooks.media": "media reading pulls the object storage layer (fsspec): running task only",
    "airflow_provider_kling.delivery": "delivery pulls storage and hashing: the running task only",
    "airflow_provider_kling.delivery.deliver": "as airflow_provider_kling.delivery",
    "airflow_provider_kling.delivery.destination": "as airflow_provider_kling.delivery (a destination checked, a plan made)",
    "airflow_provider_kling.delivery.ownership": "as airflow_provider_kling.delivery (whose files are where)",
    "airflow_provider_kling.delivery.storage": "as airflow_provider_kling.delivery (a storage path, when a plan is made)",
    "airflow_provider_kling.delivery.media": "ffmpeg probing, only after a download",
    "airflow_provider_kling.delivery.hashing": "the background hasher thread, only during a download",
    "airflow_provider_kling.delivery.reports": "as airflow_provider_kling.delivery (a batch's report files, when a plan is made)",
    "airflow_provider_kling.delivery.stitch": "as airflow_provider_kling.delivery (a storyboard's frames and joins)",
    "airflow_provider_kling.delivery.scratch": "as airflow_provider_kling.delivery (the folder a shot's first frame is made in)",
    "airflow_provider_kling.delivery.storyboard": "as airflow_provider_kling.delivery",
    "airflow_provider_kling.plugins.videos": "the plugin's FastAPI app: only the API server builds it (every process loads plugins)",
    "airflow_provider_kling.batch.running": "a batch's plan and report pull the hook: the running task only",
    "airflow_provider_kling.tasks.submit": "the submit flow (ledger, pricing, request logs): the running task only",
    "airflow_provider_kling.triggers.kling": "loads airflow.triggers.base: only when a task defers or a sensor starts in the triggerer",
    "airflow.triggers.base": "as airflow_provider_kling.triggers.kling",
    "airflow.sdk": "ObjectStoragePath (fsspec) and a fallback XCom for older SDK layouts, on first use",
    "airflow.sdk.execution_time.xcom": "the execution-time XCom API: only inside a running task or trigger",
    "asgiref.sync": "runs the SDK's blocking XCom calls from the trigger's event loop: triggerer only",
    "airflow.sdk.log": "secret masking: where it lives differs by Airflow release",
    "airflow.providers.openlineage.extractors": "OpenLineage (optional extra): only when its listener asks a task",
    "openlineage.client.event_v2": "as airflow.providers.openlineage.extractors",
    "openlineage.client.facet_v2": "as airflow.providers.openlineage.extractors",
    "attr": "attrs, for the OpenLineage run facet: as airflow.providers.openlineage.extractors",
    "airflow.sdk.execution_time.secrets_masker": "as airflow.sdk.log",
    "airflow_provider_kling.hooks.transport": "as airflow_provider_kling.hooks.kling (a video kept at the API, streamed by the plugin)",
    "airflow.configuration": "Airflow's config (the API's base path) for a review's link: when its question is rendered",
}


def imports_inside_functions() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "simulator" in path.parts:  # a program of its own, not imported by DAGs
            continue
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(function):
                    if isinstance(node, ast.Import):
                        found += [(str(path.relative_to(PACKAGE)), node.lineno, alias.name) for alias in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        found.append((str(path.relative_to(PACKAGE)), node.lineno, node.module or ""))
    return found


def test_a_function_imports_only_the_heavy_modules_listed_with_their_reason():
    found = imports_inside_functions()
    assert found, "the scan found no import at all: it is broken"
    unlisted = [f"{path}:{line} imports {module}" for path, line, module in found if module not in LAZY]
    assert not unlisted, "import these at the top of the file, or list them in LAZY with the reason:\n" + "\n".join(
        unlisted
    )
    unused = set(LAZY) - {module for _, _, module in found}
    assert not unused, f"no function imports these any more: drop them from LAZY: {sorted(unused)}"
