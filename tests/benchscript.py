"""Import a script of ``benchmarks/`` as a module, for the tests that check its numbers.

Use from any test::

    from benchscript import load_benchmark
    lorenz = load_benchmark("lorenz")  # benchmarks/lorenz.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` as the module ``<name>_benchmark``.

    The module is registered in :data:`sys.modules` before it runs, because
    dataclasses resolve their module by name.
    """
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
