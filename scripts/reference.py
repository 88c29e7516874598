"""The README's "Reference": every argument of each entry point, its type, default and meaning.

Read from the code itself (signatures and ``:param:`` docstrings), so the README cannot drift from
it: ``tests/test_readme.py`` regenerates this section and fails when the README's differs.
``python scripts/reference.py --write`` rewrites the section in README.md.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- reference:start -->", "<!-- reference:end -->"
#: Arguments shown on one line of their own rather than one row each.
BASE_OPERATOR = "any `BaseOperator` argument (`retries`, `pool`, `execution_timeout`, ...)"


def entry_points() -> list[tuple[str, Any, Any]]:
    """(title, callable whose signature is read, object whose docstring documents it)."""
    from airflow_provider_kling.batch.group import kling_batch
    from airflow_provider_kling.operators.download import KlingDownloadVideoOperator
    from airflow_provider_kling.operators.kling import KlingVideoOperator
    from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
    from airflow_provider_kling.sensors.kling import KlingGenerationSensor

    return [
        ("KlingVideoOperator", KlingVideoOperator.__init__, KlingVideoOperator),
        ("KlingStoryboardOperator", KlingStoryboardOperator.__init__, KlingStoryboardOperator),
        ("KlingGenerationSensor", KlingGenerationSensor.__init__, KlingGenerationSensor),
        ("KlingDownloadVideoOperator", KlingDownloadVideoOperator.__init__, KlingDownloadVideoOperator),
        ("kling_batch", kling_batch, kling_batch),
    ]


def param_docs(doc: str) -> dict[str, str]:
    """``:param a, b: text`` blocks of a docstring: each name -> its text on one line."""
    docs: dict[str, str] = {}
    for match in re.finditer(r":param ([\w, ]+):(.*?)(?=\n\s*:(?:param|returns|raises)|\n\s*\"\"\"|\Z)", doc, re.S):
        text = " ".join(match.group(2).split())
        for name in match.group(1).split(","):
            docs[name.strip()] = text
    return docs


def cell(text: str) -> str:
    """Docstring markup as Markdown: ``:class:`~a.B``` as ``B``, double backquotes as single ones."""
    text = re.sub(r":(?:class|func|meth|mod|data):`~?(?:[\w.]+\.)?([\w]+)`", r"`\1`", text)
    return text.replace("``", "`").replace("|", "\\|")


def table(title: str, function: Any, documented: Any) -> list[str]:
    docs = param_docs(inspect.getdoc(documented) or "")
    lines = [f"#### `{title}`", "", "| argument | type | default | meaning |", "|---|---|---|---|"]
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        kind = parameter.annotation if parameter.annotation is not parameter.empty else "Any"
        default = "required" if parameter.default is parameter.empty else f"`{parameter.default!r}`"
        meaning = docs.get(name, "")
        if not meaning and name.endswith("_url"):
            meaning = "the other name of the argument without `_url`: give one of the two"
        lines.append(f"| `{name}` | `{cell(str(kind))}` | {cell(default)} | {cell(meaning)} |")
    if title.startswith(("Kling", "@task")):
        lines += ["", f"Also {BASE_OPERATOR}."]
    return [*lines, ""]


def decorator() -> list[str]:
    """``@task.kling_video``: its own arguments, then what it takes from the operator it builds on."""
    from airflow_provider_kling.decorators.kling_video import _KlingVideoDecoratedOperator
    from airflow_provider_kling.models import DEFAULT_MODEL

    built_on = next(k for k in _KlingVideoDecoratedOperator.__mro__[1:] if k.__name__ == "KlingVideoOperator")
    lines = table("@task.kling_video", _KlingVideoDecoratedOperator.__init__, _KlingVideoDecoratedOperator)
    lines[-1:-1] = [
        "",
        f"Also every `{built_on.__name__}` argument above, as a default the function's returned dict "
        f"overrides (`model` defaults to `{DEFAULT_MODEL!r}`; `wait_for_completion` must stay `True`).",
    ]
    return lines


def reference() -> str:
    """The section's text, between its markers."""
    body: list[str] = [START, ""]
    for title, function, documented in entry_points():
        body += table(title, function, documented)
        if title == "KlingVideoOperator":
            body += decorator()
    return "\n".join([*body, END])


def readme_section(text: str) -> str:
    return text[text.index(START) : text.index(END) + len(END)]


def main() -> int:
    text = README.read_text()
    if "--write" in sys.argv:
        README.write_text(text.replace(readme_section(text), reference()))
        return 0
    print(reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
