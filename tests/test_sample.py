"""The quick start: the sample pipeline with the shipped checkpoint beats the OI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sample_pipeline_maps_better_than_the_oi(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    command = [sys.executable, "-m", "oceaninterp", "run", str(ROOT / "pipelines" / "sample.toml")]
    done = subprocess.run(
        [*command, "-o", str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = {r["name"]: r for r in json.loads((tmp_path / "scores" / "scores.json").read_text())}
    assert scores["4dvarnet"]["rmse_m"] < scores["oi"]["rmse_m"]
    assert scores["4dvarnet"]["mu"] > scores["oi"]["mu"]
    again = subprocess.run(
        [*command, "-o", str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0
    assert json.loads((tmp_path / "scores" / "scores.json").read_text()) == list(scores.values())
