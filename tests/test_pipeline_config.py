"""The pipeline TOML (RunConfig): validated at load, errors name the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oceaninterp.errors import ConfigError
from oceaninterp.pipeline.config import RunConfig

REPO = Path(__file__).resolve().parents[1]

VALID = {
    "pipeline": {"name": "t", "output_root": "../runs/t"},
    "inputs": {"observations": ["obs/*.nc"], "variable": "adt"},
    "grid": {
        "lon_min": -65.0,
        "lon_max": -55.0,
        "lat_min": 33.0,
        "lat_max": 43.0,
        "resolution": 0.1,
        "start": "2024-01-01",
        "end": "2024-01-31",
    },
    "reconstruct": [
        {"name": "oi", "method": "oi"},
        {"name": "net", "method": "4dvarnet", "checkpoint": "ckpt.pt"},
    ],
    "score": {"truth": "truth.nc"},
    "dask": {"workers": 2},
}


def load(data: dict, base: Path = Path("/data/pipelines")) -> RunConfig:
    return RunConfig.from_mapping(data, base_dir=base, today=np.datetime64("2024-03-10"))


def changed(table: str, **values) -> dict:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in VALID.items()}
    data[table] = {**data[table], **values}
    return data


def test_valid_pipeline_loads_into_frozen_tables() -> None:
    cfg = load(VALID)
    assert cfg.inputs.observations == ("obs/*.nc",) and cfg.inputs.variable == "adt"
    assert cfg.grid.shape == (31, 100, 100)
    assert [m.name for m in cfg.reconstruct] == ["oi", "net"]
    assert cfg.dask.distributed and cfg.dask.workers == 2
    assert cfg.path(cfg.pipeline.output_root) == Path("/data/runs/t")  # relative to the TOML
    with pytest.raises(AttributeError):
        cfg.pipeline.name = "other"  # type: ignore[misc]


def test_mdt_is_an_optional_input_file() -> None:
    assert load(VALID).inputs.mdt is None
    cfg = load(changed("inputs", mdt="../mdt/mdt.nc"))
    assert cfg.path(cfg.inputs.mdt) == Path("/data/mdt/mdt.nc")  # relative to the TOML


def test_land_mask_defaults_to_the_coastline_and_may_be_none_or_a_file() -> None:
    cfg = load(VALID)
    assert cfg.inputs.land_mask == "coastline" and cfg.land_mask_file() is None
    assert load(changed("inputs", land_mask="none")).land_mask_file() is None
    cfg = load(changed("inputs", land_mask="../masks/land.nc"))
    assert cfg.land_mask_file() == Path("/data/masks/land.nc")  # relative to the TOML


@pytest.mark.parametrize("value", [False, True, 1, "", "  "])
def test_a_bad_land_mask_names_the_key_and_the_choices(value: object) -> None:
    message = r"\[inputs\] land_mask: expected 'coastline' .*, 'none' .* or a land mask file"
    with pytest.raises(ConfigError, match=message):
        load(changed("inputs", land_mask=value))


def test_relative_days_resolve_against_today() -> None:
    cfg = load(changed("grid", start="today-30", end="today - 1"))
    assert (cfg.grid.start, cfg.grid.end) == ("2024-02-09", "2024-03-09")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({k: v for k, v in VALID.items() if k != "inputs"}, r"\[inputs\]: missing table"),
        ({**VALID, "extra": {}}, r"unknown table\(s\) \['extra'\]"),
        (
            changed("pipeline", on_error="ignore"),
            r"\[pipeline\] on_error: expected one of \['skip', 'fail'\], got 'ignore'",
        ),
        (changed("pipeline", colour="red"), r"\[pipeline\]: unknown key\(s\) \['colour'\]"),
        (
            changed("pipeline", format="grib"),
            r"\[pipeline\] format: expected one of \['netcdf', 'zarr'\]",
        ),
        (changed("inputs", observations=[]), r"\[inputs\] observations: expected at least one"),
        (changed("inputs", observations=3), r"\[inputs\] observations: expected a list"),
        (changed("inputs", mdt=3), r"\[inputs\] mdt: expected a string, got 3 \(int\)"),
        (changed("grid", resolution=-0.1), r"\[grid\] resolution: expected a positive"),
        (
            changed("grid", end="yesterday"),
            r"\[grid\] end: expected an ISO date \(YYYY-MM-DD\), 'today' or 'today-N'",
        ),
        (changed("grid", start="2024-02-01"), r"\[grid\] start/end: empty date range"),
        (changed("dask", workers=-1), r"\[dask\] workers: expected an integer >= 0, got -1"),
        (changed("dask", scheduler="localhost"), r"\[dask\] scheduler: expected an address"),
        (changed("score", truth=None), r"\[score\] truth/tracks: expected 'truth'"),
    ],
)
def test_errors_name_the_key_and_the_expected_value(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(data)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"name": "net", "method": "4dvarnet"},
            r"\[\[reconstruct\]\] net: checkpoint: expected a checkpoint file",
        ),
        (
            {"name": "x", "method": "kriging"},
            r"\[\[reconstruct\]\] x: method: expected one of \['4dvarnet', 'oi'\]",
        ),
        (
            {"name": "x", "method": "oi", "block_days": 0},
            r"x: block_days: expected an integer >= 1",
        ),
        (
            {"name": "x", "method": "oi", "device": "tpu"},
            r"x: device: expected one of \['auto', 'cpu', 'cuda'\]",
        ),
        ({"name": "a b", "method": "oi"}, r"\[\[reconstruct\]\] name: expected letters"),
        ({"method": "oi"}, r"\[\[reconstruct\]\].*missing 1 required .*'name'"),
        (
            {"name": "x", "method": "oi", "oi": {"lx": 1.0, "Lt": 7}},
            r"\[\[reconstruct\]\] x: \[oi\]: unknown key\(s\) \['Lt'\]",
        ),
        (
            {"name": "x", "method": "oi", "oi": {"lt": -7.0}},
            r"\[\[reconstruct\]\] x: \[oi\] lt: expected a positive number",
        ),
        (
            {"name": "net", "method": "4dvarnet", "checkpoint": "c.pt", "oi": {"lt": 7.0}},
            r"net: oi: expected a table of OI settings for method 'oi'",
        ),
        (
            {"name": "x", "method": "oi", "normalise": "observations"},
            r"x: normalise: only for method '4dvarnet'",
        ),
        (
            {"name": "net", "method": "4dvarnet", "checkpoint": "c.pt", "normalise": "truth"},
            r"net: normalise: expected one of \['checkpoint', 'observations'\]",
        ),
        (
            {"name": "x", "method": "oi", "oi_weight": 0.5},
            r"x: oi_weight: only for method '4dvarnet'",
        ),
        (
            {"name": "net", "method": "4dvarnet", "checkpoint": "c.pt", "oi_weight": 1.5},
            r"net: oi_weight: expected a number in 0..1, got 1.5",
        ),
    ],
)
def test_reconstruct_table_errors(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load({**VALID, "reconstruct": [table]})


def test_oi_settings_load_into_an_oi_config() -> None:
    cfg = load(
        {**VALID, "reconstruct": [{"name": "oi", "method": "oi", "oi": {"lx": 1.5, "lt": 10.0}}]}
    )
    (oi,) = cfg.reconstruct
    assert oi.oi is not None and (oi.oi.lx, oi.oi.lt, oi.oi.ly) == (1.5, 10.0, 1.0)


def test_duplicate_method_names_are_refused() -> None:
    twice = [{"name": "oi", "method": "oi"}, {"name": "oi", "method": "oi"}]
    with pytest.raises(ConfigError, match=r"name: expected unique names"):
        load({**VALID, "reconstruct": twice})


def test_bad_toml_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[pipeline\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        RunConfig.from_toml(path)
    with pytest.raises(ConfigError, match="no such pipeline file"):
        RunConfig.from_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize("name", ["sample.toml", "daily_nrt.toml", "osse_gulfstream.toml"])
def test_shipped_pipelines_are_valid(name: str) -> None:
    cfg = RunConfig.from_toml(REPO / "pipelines" / name)
    assert cfg.pipeline.name and cfg.grid.shape[0] >= 1
    assert cfg.inputs.land_mask == "coastline"
