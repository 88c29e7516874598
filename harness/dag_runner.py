"""Run ``airflow dags test`` and ``airflow tasks test`` commands one after another in one warm Python process.

Each ``airflow dags test`` process spends 10 to 15 CPU-seconds before the DAG's first task runs
(importing Airflow, starting the in-process execution API, its first requests), more than most
e2e runs spend on the DAG itself. This runner pays that once per test session and then runs each
request through Airflow's own CLI entry (``cli_parser`` -> ``dag_test`` / ``task_test``), as the
``airflow`` command does: same parsing of the DAG folder, same ``dag.test()``, same exit status
(non-zero when the DAG run failed). What differs from a fresh process is only what the process keeps between
runs, which a real worker or triggerer process keeps as well (imported modules, the render
history of the poll schedule, the API server's state).

Protocol (one JSON object per line): the parent writes ``{"argv": [...], "env": {...},
"output": "<file>"}``; the runner puts ``env`` into ``os.environ`` for that run only, sends the
run's stdout and stderr (file descriptors 1 and 2, so every logger's writes) to ``output``, and
answers ``{"returncode": N}``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from typing import Any


def run_one(request: dict[str, Any]) -> int:
    """One CLI command with ``request["env"]`` set; its exit status."""
    from airflow.cli import cli_parser

    saved = {key: os.environ.get(key) for key in request["env"]}
    os.environ.update(request["env"])
    try:
        args = cli_parser.get_parser().parse_args(request["argv"])
        args.func(args)
        return 0
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            print(exit_.code, file=sys.stderr)
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def with_output_to(path: str, request: dict[str, Any]) -> int:
    """:func:`run_one` with file descriptors 1 and 2 pointing at ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    with open(path, "wb") as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    try:
        return run_one(request)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)


def share_one_execution_api() -> None:
    """Let every task of every run use one in-process execution API, as newer Airflow releases do.

    Releases without apache/airflow#65235 (3.1.0 among them; 3.3.2 has it) build a new FastAPI
    app with Cadwyn's versioned routers for each task ``dag.test()`` runs: about a second per task,
    half of this runner's time on 3.1.0. A deployment's api-server builds its app once; so does
    this runner, on every release.
    """
    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_info"):  # not yet cached by Airflow itself
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)


def main() -> None:
    # Answers go out on a copy of the original stdout: fd 1 is the run's output while it runs.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    import airflow.configuration  # noqa: F401 -- the warm part: Airflow and its settings, once

    share_one_execution_api()

    for line in sys.stdin:
        request = json.loads(line)
        code = with_output_to(request["output"], request)
        answers.write(json.dumps({"returncode": code}) + "\n")


if __name__ == "__main__":
    main()
