"""What the benchmark experiments share (oceaninterp.experiment): stages, pipelines, tables."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from oceaninterp import experiment
from oceaninterp.errors import InputError


def test_mse_gain_is_relative_to_the_baseline() -> None:
    assert experiment.mse_gain(0.05, 0.10) == pytest.approx(0.75)
    assert experiment.mse_gain(0.10, 0.10) == pytest.approx(0.0)
    assert experiment.mse_gain(0.20, 0.10) == pytest.approx(-3.0)
    assert math.isnan(experiment.mse_gain(0.1, 0.0))  # a perfect baseline: no ratio
    assert math.isnan(experiment.mse_gain(0.1, float("nan")))


def test_compare_flags_where_the_method_is_worse(score_record) -> None:
    better = experiment.compare(score_record(0.01, 2.0, 10.0), score_record(0.02, 3.0, 12.0))
    assert better == {"mse_gain": pytest.approx(0.75), "worse": False, "worse_on": []}
    worse = experiment.compare(score_record(0.03, 3.5, 9.0), score_record(0.02, 3.0, None))
    assert worse["mse_gain"] == pytest.approx(1 - 2.25)
    assert worse["worse"] and worse["worse_on"] == ["MSE", "lambda_x"]
    assert experiment.without_spectral(score_record(0.03, 3.5, 9.0))["lambda_t_days"] is None


def test_score_cells_and_markdown_table(score_record) -> None:
    cells = experiment.score_cells(score_record(0.0123, None, 12.34))
    assert cells == ["0.900", "0.010", "n/a", "12.3", "1.23"]
    table = experiment.markdown_table(["a", *experiment.SCORE_HEADER], [["x", *cells]])
    assert table.splitlines() == [
        "| a | mu | sigma | lambda_x (deg) | lambda_t (days) | RMSE (cm) |",
        "|---|---|---|---|---|---|",
        "| x | 0.900 | 0.010 | n/a | 12.3 | 1.23 |",
    ]


def test_stage_is_made_again_when_its_recipe_or_inputs_change(tmp_path: Path) -> None:
    stages = experiment.Stages(tmp_path / "work")
    source, out = tmp_path / "in.txt", tmp_path / "work" / "out.txt"
    source.write_text("a")
    calls: list[str] = []

    def make() -> dict:
        calls.append(source.read_text())
        out.write_text(source.read_text())
        return {"made": len(calls)}

    record = stages.make(out, "copy", make, inputs=[source], recipe={"n": 1})
    assert record["made"] == 1 and record["wall_s"] >= 0
    stages.make(out, "copy", make, inputs=[source], recipe={"n": 1})
    assert calls == ["a"]  # up to date: skipped
    stages.make(out, "copy", make, inputs=[source], recipe={"n": 2})
    assert calls == ["a", "a"]  # another recipe
    source.write_text("b")
    stages.make(out, "copy", make, inputs=[source], recipe={"n": 2})
    assert calls == ["a", "a", "b"]  # other input bytes
    out.unlink()
    assert stages.make(out, "copy", make, inputs=[source], recipe={"n": 2})["made"] == 4
    # a fresh Stages reads the same records (and the cached fingerprints)
    again = experiment.Stages(tmp_path / "work")
    again.make(out, "copy", make, inputs=[source], recipe={"n": 2})
    assert len(calls) == 4


def test_stage_output_of_another_recipe_is_removed_and_interruption_is_seen(
    tmp_path: Path,
) -> None:
    stages = experiment.Stages(tmp_path)
    folder = tmp_path / "obs"

    def make() -> None:
        folder.mkdir()
        (folder / "x.nc").write_text("x")

    stages.make(folder, "obs", make, recipe={"seed": 1})
    stages.make(folder, "obs", make, recipe={"seed": 2})  # no "folder exists" error
    assert (folder / "x.nc").exists()

    def crash() -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        stages.make(folder, "obs", crash, recipe={"seed": 3})
    assert stages.interrupted(folder, [], {"seed": 3})
    assert not stages.interrupted(folder, [], {"seed": 2})
    with pytest.raises(InputError, match="absent"):
        stages.key([tmp_path / "absent"], {})


def test_pipeline_from_template_changes_keys_and_methods(tmp_path: Path) -> None:
    template = Path(__file__).resolve().parents[1] / "pipelines" / "experiments" / "skill.toml"
    out = experiment.pipeline_from_template(
        template,
        tmp_path / "p.toml",
        {"grid": {"start": "2022-10-11", "end": None}, "score": {"truth": str(tmp_path / "t.nc")}},
        {"oi": {"oi": {"lx": 1.5, "signal_std": 1.0}, "block_days": 31}},
    )
    with out.open("rb") as fh:
        got = tomllib.load(fh)
    assert got["grid"]["start"] == "2022-10-11" and "end" not in got["grid"]
    assert got["grid"]["resolution"] == 0.1
    oi = next(m for m in got["reconstruct"] if m["name"] == "oi")
    assert oi["oi"] == {"lx": 1.5, "signal_std": 1.0} and oi["block_days"] == 31
    assert [m["name"] for m in got["reconstruct"]] == ["oi", "4dvarnet"]
    with pytest.raises(KeyError):
        experiment.pipeline_from_template(template, out, {}, {"unknown": {}})


def test_toml_text_round_trips() -> None:
    tables = {
        "pipeline": {"name": 'a "b"', "flag": True},
        "inputs": {"observations": ["x/*.nc", "y.nc"], "none": None},
        "reconstruct": [{"name": "oi", "oi": {"lx": 1.0, "noise": 0.035}}, {"name": "n"}],
    }
    got = tomllib.loads(experiment.toml_text(tables))
    assert got == {
        "pipeline": {"name": 'a "b"', "flag": True},
        "inputs": {"observations": ["x/*.nc", "y.nc"]},
        "reconstruct": [{"name": "oi", "oi": {"lx": 1.0, "noise": 0.035}}, {"name": "n"}],
    }
