"""The README is the package's: its Models table, its generated reference, every Python block in it."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

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


# -- the README as a manual: its reference and its code are the package's ---------------------


def python_blocks() -> list[tuple[int, str]]:
    """(line number, code) of every ```python block of the README."""
    lines = (REPO / "README.md").read_text().splitlines()
    blocks, start = [], None
    for number, line in enumerate(lines, start=1):
        if line.strip() == "```python":
            start = number
        elif line.strip() == "```" and start is not None:
            blocks.append((start, "\n".join(lines[start : number - 1])))
            start = None
    return blocks


def test_the_reference_is_generated_from_the_code():
    script = load_script("reference")
    readme = (REPO / "README.md").read_text()
    assert script.readme_section(readme) == script.reference(), "run python scripts/reference.py --write"


def test_the_readme_has_python_blocks_to_check():
    assert len(python_blocks()) >= 6


@pytest.mark.parametrize(
    ("line", "code"), python_blocks(), ids=lambda value: f"line{value}" if isinstance(value, int) else ""
)
def test_every_python_block_parses_and_names_real_arguments(line, code):
    tree = ast.parse(code, filename=f"README.md:{line}")
    imported = imported_names(tree)
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        target = called(call.func, imported)
        if target is None:
            continue
        allowed = argument_names(target)
        unknown = sorted(k.arg for k in call.keywords if k.arg is not None and k.arg not in allowed)
        assert not unknown, (
            f"README.md:{line + call.lineno}: {getattr(target, '__name__', target)} has no argument {unknown}"
        )


@pytest.mark.parametrize(
    ("line", "code"),
    [b for b in python_blocks() if "@dag" in b[1]],
    ids=lambda v: f"line{v}" if isinstance(v, int) else "",
)
def test_every_dag_of_the_readme_builds(line, code):
    namespace: dict = {}
    exec(compile(code, f"README.md:{line}", "exec"), namespace)  # builds the DAG: the operators check their arguments
    tree = ast.parse(code)
    dag_functions = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and any("dag" in ast.unparse(d) for d in node.decorator_list)
    ]
    assert dag_functions
    for name in dag_functions:
        dag = namespace[name]()
        assert dag.dag_id == name
        assert dag.task_dict, f"README.md:{line}: {name} has no task"


def test_one_video_and_a_batch_are_in_the_first_80_lines():
    lines = (REPO / "README.md").read_text().splitlines()[:80]
    text = "\n".join(lines)
    assert "## Start here" in text
    assert "KlingImageToVideoOperator(" in text
    assert "kling_batch(" in text


def imported_names(tree: ast.Module) -> dict[str, object]:
    """Every name a block imports, as the object the package gives (an import that fails, fails the test)."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def called(func: ast.expr, imported: dict[str, object]) -> object | None:
    """What a call calls, when it is something the block imported (``X(...)``, ``X.partial(...)``)."""
    if isinstance(func, ast.Name):
        return imported.get(func.id)
    if isinstance(func, ast.Attribute) and func.attr == "partial" and isinstance(func.value, ast.Name):
        return imported.get(func.value.id)
    if isinstance(func, ast.Attribute) and func.attr == "kling_video" and isinstance(func.value, ast.Name):
        from airflow_provider_kling.operators.kling import KlingVideoOperator

        return KlingVideoOperator if func.value.id == "task" else None
    return None


def argument_names(target: object) -> set[str]:
    """The keyword arguments ``target`` takes; for an operator, those of every ``__init__`` it inherits."""
    if not isinstance(target, type):
        parameters = inspect.signature(target).parameters  # type: ignore[arg-type]
        return set(parameters) if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()) else ANY
    names: set[str] = set()
    for klass in target.__mro__:
        if "__init__" in vars(klass):
            names |= set(inspect.signature(vars(klass)["__init__"]).parameters)
    return names if "BaseOperator" in {k.__name__ for k in target.__mro__} else ANY


class _Anything(set):
    def __contains__(self, item: object) -> bool:
        return True


ANY = _Anything()
