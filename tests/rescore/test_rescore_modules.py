"""The rescore package imports light (its ``__all__`` lists are checked in
``tests/test_exported_members.py``)."""

from __future__ import annotations

import subprocess
import sys


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
