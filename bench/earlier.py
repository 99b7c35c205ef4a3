"""A module of ``framing`` as an earlier commit had it, loaded beside today's, for benchmarks that compare them."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def module_at(commit: str, name: str) -> ModuleType:
    """``framing/<name>.py`` at ``commit``, loaded as ``framing._<name>_then``: a module of the framing package, so
    that its relative imports (``framing.config``...) resolve to today's."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:framing/{name}.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"{name}_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"framing._{name}_then", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
