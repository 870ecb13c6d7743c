"""Robustness: the shipped 4DVarNet against the DUACS-like OI on truths it never saw.

The sample checkpoint (``sample_data/checkpoint.pt``) was trained on the
sample OSSE: a QG Gulf-Stream box (65W-55W, 33N-43N) at 1/10 deg, truth seed
2021, 4 nadirs + SWOT, no SST. Here it maps oceans it never saw, observed by
the sample's missions exactly as in ``sample_data/README.md`` (j3, s3a, c2,
alg, swot; SWOT pixels of 8 km; instrument noise; ADT gridded at 1/10 deg):

* ``seed``: a new QG truth (another seed), same box, 1/10 deg;
* ``coast``: the same truth with the coastlines and islands of a real DUACS
  Mediterranean L4 map (its NaN cells over a 10 x 10 deg window, e.g. 2-12E,
  36-46N: Corsica, Sardinia, the Ligurian and North-African coasts) laid over
  it by relative position: truth ``ssh`` and ``sst`` are NaN on land, so the
  observations skip land and the cube's land rule
  (:func:`oceaninterp.cube.land_cells`) sees it. The QG dynamics do not
  feel the coast: it is an open-ocean flow with a mask laid over it;
* ``resolution``: the truth simulated at 1/20 deg (same seed), observed,
  gridded at the model's 1/10 deg and scored against the truth block-averaged
  to 1/10 deg. The QG model runs on the same 7.8 km grid at either output
  resolution, so the 1/20 deg truth adds sub-cell detail of the same flow,
  not finer dynamics;
* ``resampled``: the same observations gridded at 1/20 deg; the 4DVarNet
  coarsens the cube to its 1/10 deg (``reconstruct(resample=True)``), the OI
  maps the same coarsened cube (:func:`oceaninterp.cube.regrid`).

For each case three maps are made from the same cube, each given the case's
MDT (the time mean of its truth SSH at 1/10 deg, the MDT the observation
files carry), and scored on the days after a spin-up: the 4DVarNet (a
checkpoint trained with an MDT maps the SLA and adds it back, an ADT
checkpoint maps the ADT cube) and two DUACS-like OIs of the SLA plus the MDT:
the one tuned for the sample's nadirs + SWOT (read from
``benchmarks/results/skill.json``) and the
:class:`~oceaninterp.config.OIConfig` defaults. The MSE gain
``1 - MSE_4dvarnet / MSE_oi`` and whether the 4DVarNet is worse than each OI
are written to ``robustness.md`` / ``robustness.json`` with the figures.

The cubes, maps and scores of the cases gridded at the model's resolution
are made by the pipeline (:func:`oceaninterp.pipeline.run_pipeline`) from
``pipelines/experiments/robustness.toml``; the ``resampled`` case, whose
4DVarNet coarsens its cube (``reconstruct(resample=True)``, which the
pipeline does not offer), calls :func:`oceaninterp.grid.grid_files`,
:func:`oceaninterp.reconstruct.reconstruct` and
:func:`oceaninterp.report.score_maps` itself. Every other step (truths,
observations, MDTs, and those of ``resampled``) writes its file under
``--work`` and is made again whenever its inputs or recipe change
(:class:`oceaninterp.experiment.Stages`); the pipeline keeps its own manifest.
Run (on 2 shared CPU cores: about 3.5 min per QG truth, 15-20 s per 4DVarNet
map, 7-8 min per tuned OI and about 2 min per default OI; the tuned OI of 90
days peaks at about 17 GB of memory, so run one such job at a time)::

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE DASK_SCHEDULER=synchronous \\
        .venv/bin/python benchmarks/robustness.py

``--cases resampled`` adds the converse of ``resolution`` (two more OIs).
``--quick`` (28 days of a coarse 128^2 QG model, short spin-ups) checks the
chain end to end in a few minutes; its scores mean nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.experiment import (
    SCORE_FIGURES,
    SCORE_HEADER,
    Stages,
    compare,
    copy_figures,
    experiment_folders,
    experiment_parser,
    host,
    markdown_table,
    oi_table,
    pipeline_from_template,
    run_pipeline_from,
    score_cells,
    shift,
    without_spectral,
    write_json,
    write_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
#: The pipeline that maps and scores one case (its template).
PIPELINE = ROOT / "pipelines" / "experiments" / "robustness.toml"
#: Days mapped but not scored at the start (the skill benchmark's spin-up).
SPINUP_DAYS = 21
#: The sample's box (lon_min, lon_max, lat_min, lat_max), degrees, and the model's resolution.
BOX = (-65.0, -55.0, 33.0, 43.0)
MODEL_RESOLUTION = 0.1
#: The sample's observing system (``sample_data/README.md``).
MISSIONS = ("j3", "s3a", "c2", "alg", "swot")
SWOT_PIXEL_KM = 8.0
#: The real map whose land mask is laid over the truth (under $OCEANINTERP_REAL_DATA).
LAND_MAP = Path("l4_duacs") / "dt_med_allsat_phy_l4_20160515_20190101.nc"
#: Its window (lon_min, lon_max, lat_min, lat_max), degrees: Corsica, Sardinia, the
#: Ligurian, French, Italian and North-African coasts, the Balearic Sea.
LAND_WINDOW = (2.0, 12.0, 36.0, 46.0)
#: The real product samples when ``OCEANINTERP_REAL_DATA`` is unset (where CI finds them).
DEFAULT_REAL_DATA = ROOT.parent / "shared" / "data" / "real"
#: Where the OI parameters tuned on the sample come from (its nadirs + SWOT row).
TUNED_OI = ROOT / "benchmarks" / "results" / "skill.json"
TUNED_SYSTEM = "nadir_swot"
METHODS = ("4dvarnet", "oi_tuned", "oi_default")

log = logging.getLogger("robustness")


@dataclasses.dataclass(frozen=True)
class Case:
    """One unseen ocean."""

    #: Human name of the case.
    label: str
    #: Resolution of the simulated truth, degrees.
    truth_resolution: float
    #: Resolution the observations are gridded at, degrees.
    cube_resolution: float
    #: Lay the real land mask over the truth.
    coast: bool = False
    #: What the case does not test, printed with the table.
    note: str = ""


CASES: dict[str, Case] = {
    "seed": Case("new seed, 1/10 deg", 0.1, 0.1),
    "coast": Case(
        "coasts and islands (Med land mask)",
        0.1,
        0.1,
        coast=True,
        note="the QG dynamics do not feel the coast: an open-ocean flow with a real "
        "land mask laid over it (no boundary currents, no coastal trapping); no spectral "
        "scores (n/a: land zero-filled in the spectra, see without_spectral)",
    ),
    "resolution": Case(
        "1/20 deg truth, 1/10 deg cube",
        0.05,
        0.1,
        note="the QG model runs on the same 7.8 km grid at both resolutions: the 1/20 deg "
        "truth adds sub-cell detail of the same flow, not finer dynamics",
    ),
    "resampled": Case(
        "1/20 deg truth, 1/20 deg cube resampled to 1/10",
        0.05,
        0.05,
        note="the cube is coarsened by block averaging (reconstruct(resample=True)); "
        "the OI maps the same coarsened cube",
    ),
}


#: Cases run by default: ``resampled`` gives the OI the same cube as ``resolution``
#: (block means of the observations either way) and costs two more OIs.
DEFAULT_CASES = ("seed", "coast", "resolution")


@dataclasses.dataclass(frozen=True)
class Setup:
    """Where and how one run works.

    Attributes
    ----------
    work
        Folder of the intermediate files.
    checkpoint
        The 4DVarNet checkpoint mapped.
    seed
        Seed of the QG truth and of the observation errors.
    days
        Days of truth (after the QG spin-up).
    start
        First day, ISO date.
    spinup_days
        Days mapped but not scored at the start (observations before the scored period).
    qg_spinup_days, qg_grid_points
        QG model spin-up (days) and grid points per side.
    real_data
        Folder of the real product files (for the land mask).
    oi_tuned
        The OI parameters tuned on the sample (``lx``, ``lt``, ``noise``).
    quick
        The shortened smoke run.
    """

    work: Path
    checkpoint: Path
    seed: int
    days: int
    start: str
    spinup_days: int
    qg_spinup_days: int
    qg_grid_points: int
    real_data: Path
    oi_tuned: dict[str, float]
    quick: bool = False

    @functools.cached_property
    def stages(self) -> Stages:
        """The stages under ``work``, made once per fingerprint of their inputs and recipe."""
        return Stages(self.work)

    def last(self) -> str:
        """The last day of the truths (ISO)."""
        return shift(self.start, self.days - 1)


# ------------------------------------------------------------------ pure functions


def relative_nearest_mask(
    land: np.ndarray,
    src_lat: np.ndarray,
    src_lon: np.ndarray,
    window: tuple[float, float, float, float],
    dst_lat: np.ndarray,
    dst_lon: np.ndarray,
    box: tuple[float, float, float, float],
) -> np.ndarray:
    """Carry a land mask from one box to another by relative position (nearest cell).

    A cell at a given fraction of ``box`` (in longitude and in latitude) takes the
    mask of the source cell nearest to the same fraction of ``window``.

    Parameters
    ----------
    land
        Boolean (latitude, longitude) mask of the source grid, True on land.
    src_lat, src_lon
        Ascending source cell centres, degrees.
    window
        (lon_min, lon_max, lat_min, lat_max) of the source window, degrees.
    dst_lat, dst_lon
        Target cell centres, degrees.
    box
        (lon_min, lon_max, lat_min, lat_max) of the target box, degrees.

    Returns
    -------
    numpy.ndarray
        Boolean (len(dst_lat), len(dst_lon)), True on land.
    """

    def nearest(src: np.ndarray, dst: np.ndarray, lo: float, hi: float, b_lo: float, b_hi: float):
        position = lo + (np.asarray(dst, dtype=np.float64) - b_lo) / (b_hi - b_lo) * (hi - lo)
        return np.abs(np.asarray(src, dtype=np.float64)[None, :] - position[:, None]).argmin(1)

    rows = nearest(src_lat, dst_lat, window[2], window[3], box[2], box[3])
    cols = nearest(src_lon, dst_lon, window[0], window[1], box[0], box[1])
    return np.asarray(land, dtype=bool)[np.ix_(rows, cols)]


def block_average(truth: Any, resolution: float, path: Path | None = None) -> Any:
    """A truth (``ssh``, ``sst``) block-averaged to ``resolution`` degrees.

    The mean of the finite cells of each block (NaN where the block is all NaN),
    by :func:`oceaninterp.cube.regrid` (coarsening by an integer factor).
    """
    from oceaninterp.cube import regrid as resample_cube

    keep = [v for v in ("ssh", "sst") if v in truth.data_vars]
    coarse = resample_cube(truth[keep], resolution, path)[keep]
    for name in keep:
        coarse[name].attrs = {**truth[name].attrs, "cell_methods": "area: mean"}
    return coarse


def truth_path(setup: Setup, resolution: float) -> Path:
    """The QG truth of the run at ``resolution`` degrees."""
    return setup.work / f"truth_{resolution:g}" / "truth.nc"


def make_truth(setup: Setup, resolution: float) -> dict[str, Any]:
    """Simulate the new QG truth at ``resolution`` (the sample's box and model); its record."""
    from oceaninterp.simulate.truth import simulate_truth

    out = truth_path(setup, resolution)
    recipe = {
        "days": setup.days,
        "resolution": resolution,
        "seed": setup.seed,
        "start": setup.start,
        "region": BOX,
        "grid_points": setup.qg_grid_points,
        "spinup_days": setup.qg_spinup_days,
        "physics": "v1",  # the published table's truths
    }
    return setup.stages.make(
        out,
        f"QG truth seed {setup.seed} at {resolution:g} deg",
        lambda: simulate_truth(
            out.parent,
            **recipe,
            overwrite=True,
            history=f"benchmarks/robustness.py: truth seed {setup.seed}",
        ),
        recipe=recipe,
    )


def real_land(real_data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The land mask of the real Mediterranean DUACS L4 map: (land, lat, lon).

    Raises
    ------
    InputError
        When the real-data folder or the map is missing.
    """
    from oceaninterp.errors import InputError
    from oceaninterp.products import duacs_l4

    path = real_data / LAND_MAP
    if not path.exists():
        raise InputError(
            path,
            "the real DUACS Mediterranean L4 map is missing: set OCEANINTERP_REAL_DATA to "
            "the real-data folder (see /work/shared/data/real/README.md) or leave out the "
            "coast case (--cases)",
        )
    sla = duacs_l4.open(path, variables=["sla"])["sla"].isel(time=0)
    lon_min, lon_max, lat_min, lat_max = LAND_WINDOW
    sla = sla.sel(latitude=slice(lat_min, lat_max), longitude=slice(lon_min, lon_max))
    return (
        np.asarray(sla.isnull().values),
        np.asarray(sla["latitude"].values),
        np.asarray(sla["longitude"].values),
    )


def make_coast_truth(setup: Setup) -> Path:
    """The 1/10 deg truth with ``ssh`` and ``sst`` NaN on the real land mask."""
    from oceaninterp.io import open_dataset, write_dataset

    source = truth_path(setup, MODEL_RESOLUTION)
    out = setup.work / "coast" / "truth.nc"

    def make() -> None:
        land, lat, lon = real_land(setup.real_data)
        truth = open_dataset(source).load()
        mask = relative_nearest_mask(
            land, lat, lon, LAND_WINDOW, truth["latitude"].values, truth["longitude"].values, BOX
        )
        for name in ("ssh", "sst"):  # in place: names, attributes and encodings kept
            truth[name].values[:, mask] = np.nan
        truth.attrs.update(
            land_mask=f"{LAND_MAP} over {LAND_WINDOW} (lon_min, lon_max, lat_min, lat_max), "
            "nearest cell by relative position; the QG dynamics do not feel it",
            land_fraction=float(mask.mean()),
        )
        write_dataset(truth, out, overwrite=True)

    inputs = [source, setup.real_data / LAND_MAP]
    setup.stages.make(out, "coast truth", make, inputs=inputs, recipe={"window": LAND_WINDOW})
    return out


def reference_path(setup: Setup, case: Case) -> Path:
    """The truth the case is scored against, at the model's resolution."""
    if case.coast:
        return setup.work / "coast" / "truth.nc"
    if np.isclose(case.truth_resolution, MODEL_RESOLUTION):
        return truth_path(setup, case.truth_resolution)
    return truth_path(setup, case.truth_resolution).with_name(f"reference_{MODEL_RESOLUTION:g}.nc")


def make_reference(setup: Setup, case: Case) -> Path:
    """The case's truth at the model's resolution (block-averaged when finer)."""
    from oceaninterp.io import open_dataset, write_dataset

    out = reference_path(setup, case)
    fine = truth_path(setup, case.truth_resolution)
    if out == fine:
        return out
    if case.coast:
        return make_coast_truth(setup)

    def make() -> None:
        truth = open_dataset(fine).load()
        coarse = block_average(truth, MODEL_RESOLUTION, fine)
        coarse.attrs.update(truth.attrs, resolution=MODEL_RESOLUTION)
        coarse.attrs["summary"] = (
            f"{truth.attrs.get('summary', '')} Block-averaged from {case.truth_resolution:g} "
            f"to {MODEL_RESOLUTION:g} deg (benchmarks/robustness.py)."
        )
        write_dataset(coarse.drop_encoding(), out, overwrite=True)

    what = f"reference truth at {MODEL_RESOLUTION:g} deg"
    setup.stages.make(out, what, make, inputs=[fine], recipe={"resolution": MODEL_RESOLUTION})
    return out


def observed_truth(setup: Setup, case: Case) -> Path:
    """The truth the satellites fly over (the masked one for the coast case)."""
    return make_coast_truth(setup) if case.coast else truth_path(setup, case.truth_resolution)


def make_obs(setup: Setup, case: Case) -> tuple[Path, dict[str, Any]]:
    """The sample's missions over the case's truth (product files), and their record."""
    from oceaninterp.simulate.observations import simulate_obs

    truth = observed_truth(setup, case)
    out = truth.parent / "obs"
    recipe = {
        "missions": MISSIONS,
        "swot_pixel_km": SWOT_PIXEL_KM,
        "seed": setup.seed,
        "systematic": False,  # as the published table (before SWOT systematic errors)
        "mdt_error": 0.0,
    }
    record = setup.stages.make(
        out,
        f"observations of {truth}",
        lambda: simulate_obs(
            truth,
            out,
            **recipe,
            overwrite=True,
            history=f"benchmarks/robustness.py: simulate obs seed {setup.seed}",
        ),
        inputs=[truth],
        recipe=recipe,
    )
    return out, record


def make_mdt(setup: Setup, name: str, case: Case) -> Path:
    """The MDT the observations carry (time mean of the truth SSH; NaN on land)."""
    from oceaninterp.io import open_dataset
    from oceaninterp.mdt import write_mdt

    out = setup.work / name / "mdt.nc"
    reference = make_reference(setup, case)

    def make() -> None:
        with open_dataset(reference) as truth:
            mdt = truth["ssh"].mean("time").load()
        write_mdt(
            mdt,
            out,
            history=f"benchmarks/robustness.py: MDT {name}",
            source_files=[reference],
            summary="Time mean of the truth SSH (the MDT the observation files carry).",
            overwrite=True,
        )

    setup.stages.make(out, f"MDT {name}", make, inputs=[reference])
    return out


# ------------------------------------------------------------------- the maps


def oi_configs(setup: Setup) -> dict[str, Any]:
    """The two OIs: tuned on the sample's nadirs + SWOT, and the defaults."""
    from oceaninterp.config import OIConfig

    tuned = setup.oi_tuned
    return {
        "oi_tuned": OIConfig(
            lx=tuned["lx"], ly=tuned["lx"], lt=tuned["lt"], noise=tuned["noise"], signal_std=1.0
        ),
        "oi_default": OIConfig(signal_std=1.0),
    }


def read_tuned_oi(path: Path = TUNED_OI, system: str = TUNED_SYSTEM) -> dict[str, float]:
    """``lx``, ``lt``, ``noise`` of the OI tuned by the skill benchmark for ``system``."""
    from oceaninterp.errors import InputError

    if not path.exists():
        raise InputError(path, "missing: run benchmarks/skill.py first (it tunes the OI)")
    rows = {r["system"]: r for r in json.loads(path.read_text())["rows"]}
    if system not in rows:
        raise InputError(path, f"no row for system {system!r} (have {sorted(rows)})")
    return {k: float(v) for k, v in rows[system]["oi_params"].items()}


def scored(setup: Setup) -> tuple[str, str]:
    """The days scored: after the spin-up, to the last (ISO)."""
    return shift(setup.start, setup.spinup_days), setup.last()


def pipeline_case(
    setup: Setup, name: str, case: Case, obs: Path, mdt: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float | None], Path]:
    """The cube, maps and scores of a case at the model's resolution, by the pipeline.

    ``pipelines/experiments/robustness.toml`` with the case's observations
    (and SST on coasts, where files all on land are left out), MDT, truth and
    days (one block, no halo).

    Returns
    -------
    tuple
        Score records by method, the cube's record (``points``,
        ``observed_cells``, ``files_read``, ``skipped_files``), wall times by
        method (``<method>_s``, and ``grid_s``) and the scores folder.
    """
    from oceaninterp.io import open_dataset

    folder = setup.work / name / "pipeline"
    block = {"block_days": setup.days, "halo_days": 0}
    config = pipeline_from_template(
        PIPELINE,
        folder / "pipeline.toml",
        {
            "pipeline": {
                "name": f"robustness_{name}",
                "output_root": str(folder),
                "on_error": "skip" if case.coast else "fail",
            },
            "inputs": {
                "observations": [str(obs.resolve() / f / "**" / "*.nc") for f in ("nadir", "swot")],
                "sst": [str(obs.resolve() / "sst" / "*.nc")] if case.coast else [],
                "mdt": str(mdt.resolve()),
            },
            "grid": {"resolution": case.cube_resolution, "start": setup.start, "end": setup.last()},
            "score": {"truth": str(make_reference(setup, case).resolve())},
        },
        {
            "4dvarnet": {**block, "checkpoint": str(setup.checkpoint)},
            "oi_tuned": {**block, "oi": oi_table(oi_configs(setup)["oi_tuned"])},
            "oi_default": {**block, "oi": oi_table(oi_configs(setup)["oi_default"])},
        },
    )
    run = run_pipeline_from(config, *scored(setup), allow_input_errors=case.coast)
    points = cells = 0
    for path in sorted((folder / "cubes").glob("*/*.nc")):
        with open_dataset(path) as cube:
            count = cube["count"].values
        points, cells = points + int(count.sum()), cells + int(np.count_nonzero(count))
    files = sum(1 for f in ("nadir", "swot") for _ in (obs / f).rglob("*.nc"))
    files += sum(1 for _ in (obs / "sst").glob("*.nc")) if case.coast else 0
    record = {
        "points": points,
        "observed_cells": cells,
        "files_read": files - len(run.input_errors),
        "skipped_files": len(run.input_errors),
    }
    walls = {"grid_s": run.wall_s.get("grid")}
    walls.update({f"{m}_s": run.wall_s.get(f"maps/{m}") for m in METHODS})
    return run.scores, record, walls, run.scores_dir


def direct_case(
    setup: Setup, name: str, case: Case, obs: Path, mdt: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float | None], Path]:
    """The cube, maps and scores of a case gridded finer than the model (``resampled``).

    The 4DVarNet coarsens the cube to its resolution
    (``reconstruct(resample=True)``, which the pipeline does not offer) and the
    OIs map the same coarsened cube (:func:`oceaninterp.cube.regrid`). Returns
    what :func:`pipeline_case` does.
    """
    from oceaninterp.config import GridSpec
    from oceaninterp.cube import regrid
    from oceaninterp.grid import grid_files
    from oceaninterp.io import open_dataset
    from oceaninterp.reconstruct import reconstruct
    from oceaninterp.report import score_maps

    folder = setup.work / name
    cube = folder / "cube.nc"
    lon_min, lon_max, lat_min, lat_max = BOX
    spec = GridSpec(
        lon_min, lon_max, lat_min, lat_max, case.cube_resolution, setup.start, setup.last()
    )

    def grid() -> dict[str, Any]:
        summary = grid_files(
            [obs / "nadir", obs / "swot"],
            cube,
            spec,
            variable="adt",
            overwrite=True,
            history=f"benchmarks/robustness.py: grid {name}",
        )
        return {
            "points": summary.points,
            "observed_cells": summary.observed_cells,
            "files_read": len(summary.read),
            "skipped_files": len(summary.skipped),
        }

    grid_record = setup.stages.make(
        cube,
        f"grid {name}",
        grid,
        inputs=[obs / "nadir", obs / "swot"],
        recipe={"grid": dataclasses.asdict(spec), "variable": "adt"},
    )
    walls: dict[str, float | None] = {"grid_s": grid_record["wall_s"]}
    maps: dict[str, Path] = {}
    for method, cfg in [("4dvarnet", None), *oi_configs(setup).items()]:
        out = folder / f"maps_{method}.nc"
        options: dict[str, Any] = (
            {"method": "4dvarnet", "checkpoint": setup.checkpoint, "resample": True}
            if cfg is None
            else {"method": "oi", "oi_config": cfg}
        )

        def make(out: Path = out, options: dict[str, Any] = options) -> None:
            source = open_dataset(cube)
            if options["method"] == "oi":  # as the 4DVarNet: the cube coarsened to the model's
                source = regrid(source, MODEL_RESOLUTION, cube)
            reconstruct(
                source,
                out,
                device="cpu",
                mdt=mdt,
                overwrite=True,
                history=f"benchmarks/robustness.py: {options['method']}",
                **options,
            )

        inputs = [cube, mdt, *([setup.checkpoint] if cfg is None else [])]
        recipe = {k: dataclasses.asdict(v) if k == "oi_config" else v for k, v in options.items()}
        record = setup.stages.make(out, f"{method} {name}", make, inputs=inputs, recipe=recipe)
        walls[f"{method}_s"] = record["wall_s"]
        maps[method] = out
    scores_dir = folder / "scores"
    reference = make_reference(setup, case)
    setup.stages.make(
        scores_dir,
        f"scores {name}",
        lambda: score_maps(
            [maps[m] for m in METHODS],
            truth=reference,
            output_dir=scores_dir,
            names=list(METHODS),
            start=scored(setup)[0],
            end=scored(setup)[1],
            overwrite=True,
        ),
        inputs=[reference, *maps.values()],
        recipe={"scored": scored(setup)},
    )
    records = {r["name"]: r for r in json.loads((scores_dir / "scores.json").read_text())}
    return (
        records,
        {k: v for k, v in grid_record.items() if k not in ("key", "wall_s")},
        walls,
        scores_dir,
    )


def run_case(setup: Setup, name: str) -> dict[str, Any]:
    """Truth, observations, MDT, the three maps and their scores of one case."""
    from oceaninterp.io import open_dataset

    case = CASES[name]
    truth_record = make_truth(setup, case.truth_resolution)
    obs, obs_record = make_obs(setup, case)
    mdt = make_mdt(setup, name, case)
    at_model = np.isclose(case.cube_resolution, MODEL_RESOLUTION)
    scores, cube, walls, scores_dir = (pipeline_case if at_model else direct_case)(
        setup, name, case, obs, mdt
    )
    records = {m: without_spectral(r) if case.coast else r for m, r in scores.items()}
    with open_dataset(truth_path(setup, case.truth_resolution)) as truth:
        stats = {k: float(v) for k, v in truth.attrs.items() if k.startswith("stat_")}
    return {
        "case": name,
        "label": case.label,
        "note": case.note,
        "truth_resolution_deg": case.truth_resolution,
        "cube_resolution_deg": case.cube_resolution,
        "scored": list(scored(setup)),
        "truth_statistics": stats,
        "cube": cube,
        "scores": records,
        "versus": {m: compare(records["4dvarnet"], records[m]) for m in METHODS[1:]},
        "wall_s": {
            "truth_s": truth_record["wall_s"],
            "observations_s": obs_record["wall_s"],
            **walls,
        },
        "scores_dir": str(scores_dir),
    }


# ------------------------------------------------------------------------ output


def method_name(method: str, oi_tuned: dict[str, float]) -> str:
    """How a method is named in the table."""
    if method == "4dvarnet":
        return "4DVarNet (shipped checkpoint)"
    if method == "oi_tuned":
        return "OI tuned on the sample (lx {lx:g} deg, lt {lt:g} d, noise {noise:g} m)".format(
            **oi_tuned
        )
    from oceaninterp.config import OIConfig

    d = OIConfig(signal_std=1.0)
    return f"OI defaults (lx {d.lx:g} deg, lt {d.lt:g} d, noise {d.noise:g} m)"


def table(rows: list[dict[str, Any]], oi_tuned: dict[str, float]) -> str:
    """The results as a markdown table: one line per case and method."""
    header = [
        "case",
        "method",
        *SCORE_HEADER,
        "MSE gain of 4DVarNet vs this OI",
        "4DVarNet worse than this OI",
        "4DVarNet worse on",
    ]
    lines = []
    for row in rows:
        for method in METHODS:
            versus = row["versus"].get(method)
            tail = (
                [
                    f"{versus['mse_gain'] * 100:+.0f} %",
                    "yes" if versus["worse"] else "no",
                    ", ".join(versus["worse_on"]) or "-",
                ]
                if versus
                else ["-", "-", "-"]
            )
            name = method_name(method, oi_tuned)
            lines.append([row["case"], name, *score_cells(row["scores"][method]), *tail])
    return markdown_table(header, lines)


def _wall(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def report(setup: Setup, rows: list[dict[str, Any]], results: Path, command: str) -> dict[str, Any]:
    """Write ``robustness.md``/``robustness.json`` and the figures to ``results``."""
    from oceaninterp.model.checkpoint import describe_checkpoint

    for row in rows:
        # no spectral scores on coasts (without_spectral): their snapshots only
        figures = ("snapshots.png",) if CASES[row["case"]].coast else SCORE_FIGURES
        copy_figures(Path(row["scores_dir"]), results, f"robustness_{row['case']}_", figures)
    described = describe_checkpoint(setup.checkpoint)
    checkpoint = (
        setup.checkpoint.relative_to(ROOT)
        if setup.checkpoint.is_relative_to(ROOT)
        else setup.checkpoint
    )
    meta = {
        "command": command,
        "checkpoint": str(checkpoint),
        "checkpoint_ssh_kind": described.get("ssh_kind"),
        "checkpoint_training_truth": described.get("training", {}).get("truth"),
        "truth_seed": setup.seed,
        "observation_seed": setup.seed,
        "days": setup.days,
        "start": setup.start,
        "spinup_days_not_scored": setup.spinup_days,
        "qg": {"spinup_days": setup.qg_spinup_days, "grid_points": setup.qg_grid_points},
        "box": BOX,
        "missions": MISSIONS,
        "swot_pixel_km": SWOT_PIXEL_KM,
        "oi_tuned": setup.oi_tuned,
        "oi_tuned_source": f"{TUNED_OI.relative_to(ROOT)} ({TUNED_SYSTEM})",
        "land_map": f"$OCEANINTERP_REAL_DATA/{LAND_MAP}",
        "land_window": LAND_WINDOW,
        "quick": setup.quick,
        "host": host(),
    }
    write_json(results / "robustness.json", {"meta": meta, "rows": rows})
    notes = "\n".join(f"- `{r['case']}` ({r['label']}): {r['note']}" for r in rows if r["note"])
    worse = [
        f"`{r['case']}` vs {m}" for r in rows for m, v in r["versus"].items() if v["worse"]
    ] or ["nowhere"]
    walls = "\n".join(
        f"- `{r['case']}`: "
        + ", ".join(f"{k.removesuffix('_s')} {_wall(v)}" for k, v in r["wall_s"].items())
        for r in rows
    )
    machine = meta["host"]
    timed = [v for r in rows for v in r["wall_s"].values()]
    missing = "; `n/a`: made before timing was recorded" if None in timed else ""
    md = (
        f"The shipped checkpoint `{checkpoint}` (trained on the sample OSSE, QG seed 2021, "
        f"maps {meta['checkpoint_ssh_kind']}) and the DUACS-like OI (SLA + MDT) on QG truths "
        f"it never saw: seed {setup.seed}, {setup.days} days from {setup.start}, the sample's "
        f"box and observing system ({', '.join(MISSIONS)}; SWOT {SWOT_PIXEL_KM:g} km pixels), "
        f"scored on {rows[0]['scored'][0]} .. {rows[0]['scored'][1]} (after "
        f"{setup.spinup_days} days of spin-up) against the truth at "
        f"{MODEL_RESOLUTION:g} deg.\n\n{table(rows, setup.oi_tuned)}\n\n"
        f"4DVarNet worse than an OI (MSE): {', '.join(worse)}.\n\n"
        f"What the cases do not test:\n{notes}\n\nCommand: `{command}`\n\n"
        f"Wall times ({machine['cpu_count']} CPU cores, load {machine['load_average_1min']:.1f}, "
        f"torch {machine['torch']}; a truth is shared by the cases made from it"
        f"{missing}):\n{walls}\n"
    )
    print(write_markdown(results / "robustness.md", md))
    return meta


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark; returns the exit status."""
    quick = "smoke run: 28 days of a 128^2 QG model after 30 days of spin-up, 7 days not scored"
    parser = experiment_parser(__doc__, "robustness", quick)
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "sample_data" / "checkpoint.pt")
    parser.add_argument(
        "--cases",
        default=",".join(DEFAULT_CASES),
        help=f"comma-separated among {list(CASES)} (default {','.join(DEFAULT_CASES)})",
    )
    parser.add_argument("--days", type=int, default=90, help="days of truth mapped")
    parser.add_argument("--seed", type=int, default=7, help="QG truth and observation seed")
    parser.add_argument("--start", default="2022-01-01", help="first day (labels only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; expected some of {list(CASES)}")
    work, results = experiment_folders(args, "robustness", ROOT)
    setup = Setup(
        work=work,
        checkpoint=args.checkpoint.resolve(),
        seed=args.seed,
        days=28 if args.quick else args.days,
        start=args.start,
        spinup_days=7 if args.quick else SPINUP_DAYS,
        qg_spinup_days=30 if args.quick else 120,
        qg_grid_points=128 if args.quick else 256,
        real_data=Path(os.environ.get("OCEANINTERP_REAL_DATA") or DEFAULT_REAL_DATA),
        oi_tuned=read_tuned_oi(),
        quick=args.quick,
    )
    command = " ".join(
        ["python benchmarks/robustness.py", *(sys.argv[1:] if argv is None else argv)]
    )
    rows = [run_case(setup, name) for name in cases]
    report(setup, rows, results, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
