"""The rescore package's modules: exact ``__all__`` lists and light imports.

``tests/test_exported_members.py`` holds the list for the rest of the project;
the rescore modules are checked here the same way.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

MODULES = [
    "service.rescore",
    "service.rescore.checkpoint",
    "service.rescore.errors",
    "service.rescore.job",
    "service.rescore.options",
    "service.rescore.progress",
    "service.rescore.ray_engine",
    "service.rescore.ray_source",
    "service.rescore.readers",
    "service.rescore.report",
    "service.rescore.rows",
    "service.rescore.scoring",
    "service.rescore.sniff",
    "service.rescore.summary",
    "service.rescore.themes",
    "service.rescore.writers",
]


@pytest.mark.parametrize("name", MODULES)
def test_rescore_module_all_lists_exactly_the_public_names(name: str) -> None:
    if name.endswith("ray_source"):
        pytest.importorskip("ray")
    module = importlib.import_module(name)
    defined_here = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", name) == name
        and attr not in {"annotations", "logger", "TYPE_CHECKING"}
    }
    constants = {a for a in defined_here if a.isupper()}
    public = set(module.__all__)
    assert defined_here - constants <= public
    assert public <= set(vars(module))


def test_rescore_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, service.rescore, service.cli; "
        "print(sorted(m for m in ('pyarrow', 'onnxruntime', 'ray', 'rich', "
        "'charset_normalizer', 'nlp.analysis') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
