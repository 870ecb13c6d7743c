"""OSSE skill of 4DVarNet against a tuned OI, per observing system.

The SSH-mapping data challenge protocol on the sample's Gulf Stream box at
1/10 deg (``sample_data``: one year of QG truth, seed 2021, 4 nadirs, SWOT at
8 km pixels, L4 SST): train / validation / 42-day test periods kept apart
(``sample_data/train.toml``), observations of a spin-up window before the
test period allowed, for three observing systems:

* ``nadir``: 4 nadirs (j3, s3a, c2, alg);
* ``nadir_swot``: 4 nadirs + SWOT;
* ``nadir_swot_sst``: 4 nadirs + SWOT + SST (the model's multimodal term).

For each system:

* the OI, DUACS-like: it maps the SLA (the cube's ADT minus the MDT that the
  observation files carry, ``sample_data/mdt.nc``, the time mean of the
  truth) and adds the MDT back; its ``lx``/``lt``/``noise`` are picked by
  :func:`oceaninterp.oi.tune_oi` against the truth on the validation period
  (as the 4DVarNet picks its epoch), never on the test period;
* a 4DVarNet trained (:func:`oceaninterp.train.train` with the same MDT: it
  learns the SLA; CPU, fixed epochs) on the system's cube, best epoch by
  validation mu;
* both map the test period from its observations and those of the
  :data:`SPINUP_DAYS` before it, and are scored together on the test period
  against the truth (mu, sigma, lambda_x, lambda_t, RMSE, and the MSE gain
  ``1 - MSE_4dvarnet / MSE_oi``), by the pipeline
  (:func:`oceaninterp.pipeline.run_pipeline`) run from
  ``pipelines/experiments/skill.toml`` with the system's observations, the
  tuned OI and the trained checkpoint.

The stages the pipeline has not (the year's cube, the OI tuning, the
training) write their files under ``--work`` and are made again whenever
their inputs or recipe change (:class:`oceaninterp.experiment.Stages`), so an
interrupted run resumes where it stopped and a changed recipe never reuses a
stale file; the pipeline keeps its own manifest. The leaderboard is printed
and written to ``--results`` as ``skill.md`` and ``skill.json`` (with seeds,
epochs, wall times and the host), plus each system's spectral-score and
snapshot figures.

Run (full: three trainings of about 20-40 min each and up to an hour of OI
tuning on 2 CPU cores; ``--stage 4dvarnet`` and ``--stage oi`` runs share the CPU)::

    OMP_WAIT_POLICY=PASSIVE DASK_SCHEDULER=synchronous \\
        .venv/bin/python benchmarks/skill.py

``--target adt`` trains the 4DVarNet on the ADT cube as is (``skill_adt.md``);
``--model prior_width=64,lstm_hidden=48 --epochs 48`` and the like train
ablations of the recipe; ``--score-period val`` maps and scores the validation
period instead of the test (``skill_val.md``): recipes are compared there, so
that the test period stays unseen until the choice is made.

``--quick`` (nadir system only, one OI candidate, 2 short epochs, 10 test
days) checks the chain end to end in a few minutes; its scores mean nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.experiment import (
    SCORE_FIGURES,
    SCORE_HEADER,
    PipelineRun,
    Stages,
    cell,
    copy_figures,
    experiment_folders,
    experiment_parser,
    host,
    markdown_table,
    mse_gain,
    oi_table,
    pipeline_from_template,
    run_pipeline_from,
    score_cells,
    shift,
    write_json,
    write_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
#: The pipeline that maps and scores one observing system (its template).
PIPELINE = ROOT / "pipelines" / "experiments" / "skill.toml"
BOX = {"lon_min": -65.0, "lon_max": -55.0, "lat_min": 33.0, "lat_max": 43.0}
#: Grid spacing of the cubes and maps by default, degrees (the sample truth's).
RESOLUTION = 0.1
#: Observing systems: (label, observation folders, SST folder or None, model uses SST).
SYSTEMS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "nadir": ("4 nadirs", ("nadir",), False),
    "nadir_swot": ("4 nadirs + SWOT", ("nadir", "swot"), False),
    "nadir_swot_sst": ("4 nadirs + SWOT + SST", ("nadir", "swot"), True),
}
#: OI search per observation folders: rounds of candidates (lx = ly in degrees,
#: lt in days, noise in metres), each round tried around the best of the
#: previous ones (which stays a candidate), every candidate scored by its RMSE
#: against the truth SLA on the validation period, as the 4DVarNet picks its
#: epoch. With SWOT, lx < 1 deg is left out: one such candidate costs over
#: 10 min on this 2-core CPU, and an earlier search found smaller lx worse. That
#: earlier search, by withheld observation clusters (``tune_oi`` without a
#: truth), picked lt 14 d / noise 0.08 m with SWOT, an OI that the defaults
#: (lt 7 d, noise 0.05 m) beat on the test period: it is not used.
OI_CANDIDATES: dict[tuple[str, ...], list[dict[str, list[float]]]] = {
    ("nadir",): [
        {"lx": [1.0, 1.4, 2.0], "lt": [7.0, 11.0, 16.0]},
        {"noise": [0.02, 0.035, 0.05, 0.08, 0.12, 0.18]},
        {"lx": [1.0, 1.4, 2.0], "lt": [5.0, 7.0, 11.0]},
        {"noise": [0.12, 0.18, 0.25, 0.35]},
    ],
    ("nadir", "swot"): [
        {"lx": [1.0, 1.4], "lt": [4.0, 7.0, 11.0]},
        {"noise": [0.02, 0.035, 0.05, 0.08, 0.12]},
    ],
}
QUICK_OI_CANDIDATES: dict[tuple[str, ...], list[dict[str, list[float]]]] = {
    ("nadir",): [{"lx": [1.0], "lt": [7.0], "noise": [0.05]}],
}
#: How the 4DVarNet's maps are made, per ``--target``.
TARGETS = {"sla": "SLA + MDT", "adt": "ADT"}
#: Days of observations before the test period given to both methods (spin-up).
SPINUP_DAYS = 21
#: Periods that ``--score-period`` maps and scores.
PERIOD_NAMES = {"test": "Test", "val": "Validation"}

log = logging.getLogger("skill")


@dataclasses.dataclass(frozen=True)
class Setup:
    """Where and how one run works.

    Attributes
    ----------
    work
        Folder of the intermediate files (cubes, checkpoints, OI settings, pipelines).
    truth, obs
        The truth file and the observation folder (``nadir/``, ``swot/``, ``sst/``).
    periods
        ISO dates: train_start .. test_end (``sample_data/train.toml``).
    epochs, tiles_per_epoch, seed
        Training budget and seed of every model.
    candidates
        Rounds of OI values tried against the validation truth, per observation folders.
    quick
        The shortened smoke run.
    last_day
        Last day of the truth: the cubes span train_start .. last_day.
    target
        What the 4DVarNet maps: ``"sla"`` (trained and run with ``mdt``: cube
        and truth minus the MDT, the MDT added back to its maps, as the OI) or
        ``"adt"`` (the ADT cube as is).
    mdt
        The MDT file given to the OI (and to the 4DVarNet for ``"sla"``).
    model_options, train_options
        :class:`~oceaninterp.config.ModelConfig` / ``TrainConfig`` overrides.
    period
        The period mapped and scored: ``"test"`` (the leaderboard) or ``"val"``
        (the validation period, to choose a recipe without seeing the test).
    resolution
        Grid spacing of the cubes, the maps and ``truth``, degrees.
    """

    work: Path
    truth: Path
    obs: Path
    periods: dict[str, str]
    epochs: int
    tiles_per_epoch: int
    seed: int
    candidates: dict[tuple[str, ...], list[dict[str, list[float]]]]
    quick: bool
    last_day: str
    target: str = "sla"
    mdt: Path = Path("sample_data/mdt.nc")
    model_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    train_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    period: str = "test"
    resolution: float = RESOLUTION

    def scored(self) -> tuple[str, str]:
        """First and last days of the scored period (ISO)."""
        return self.periods[f"{self.period}_start"], self.periods[f"{self.period}_end"]

    def suffix(self) -> str:
        """What the scored period adds to the names of maps, scores and results."""
        return "" if self.period == "test" else f"_{self.period}"

    @functools.cached_property
    def stages(self) -> Stages:
        """The stages under ``work``, made once per fingerprint of their inputs and recipe."""
        return Stages(self.work)


def _options(text: str, cls: type) -> dict[str, Any]:
    """``"a=1,b=x"`` as keyword arguments of the dataclass ``cls``, typed like its defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    options: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        if name not in defaults:
            raise ValueError(
                f"{cls.__name__} has no option {name!r}; expected one of {sorted(defaults)}"
            )
        default = defaults[name]
        if isinstance(default, bool):
            options[name] = value.lower() in ("1", "true", "yes")
        elif isinstance(default, (int, float)):
            options[name] = type(default)(value)
        else:
            options[name] = value
    return options


PERIODS = ("train_start", "train_end", "val_start", "val_end", "test_start", "test_end")


def read_periods(path: Path) -> dict[str, str]:
    """The six period dates of a training TOML (``[train]`` table)."""
    from oceaninterp.config import read_train_config as read_config

    _, cfg = read_config(path)
    return {n: str(getattr(cfg, n)) for n in PERIODS}


def read_recipe(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``[model]`` and ``[train]`` settings of a training TOML that differ from the defaults.

    Periods, epochs, tiles per epoch and seed are left out (the command line
    and :func:`read_periods` set them); ``use_sst`` is set per system.
    """
    from oceaninterp.config import ModelConfig, TrainConfig
    from oceaninterp.config import read_train_config as read_config

    model, train = read_config(path)
    fixed = {*PERIODS, "epochs", "tiles_per_epoch", "seed", "use_sst"}

    def changed(cfg: Any, default: Any) -> dict[str, Any]:
        return {
            f.name: getattr(cfg, f.name)
            for f in dataclasses.fields(cfg)
            if f.name not in fixed and getattr(cfg, f.name) != getattr(default, f.name)
        }

    return changed(model, ModelConfig()), changed(train, TrainConfig())


def cube_path(setup: Setup, system: str) -> Path:
    """The cube of a system (SWOT systems share one cube, with SST)."""
    folders = SYSTEMS[system][1]
    suffix = "_sst" if "swot" in folders else ""
    return setup.work / ("cube_" + "_".join(folders) + suffix + ".nc")


def make_cube(setup: Setup, system: str) -> Path:
    """Grid the system's observations (ADT, the whole year, ``setup.resolution``) into its cube.

    The cube of the OI tuning and of the training; the maps are made by the
    pipeline from its own daily cubes of the same files (:func:`pipeline_scores`).
    """
    from oceaninterp.config import GridSpec
    from oceaninterp.grid import grid_files

    folders = SYSTEMS[system][1]
    out = cube_path(setup, system)
    spec = GridSpec(
        **BOX, resolution=setup.resolution, start=setup.periods["train_start"], end=setup.last_day
    )
    obs = [setup.obs / f for f in folders]
    sst = [setup.obs / "sst"] if "swot" in folders else []
    setup.stages.make(
        out,
        f"grid {system}",
        lambda: grid_files(
            obs,
            out,
            spec,
            variable="adt",
            sst=sst,
            overwrite=True,
            history=f"benchmarks/skill.py: grid {'+'.join(folders)}",
        ),
        inputs=[*obs, *sst],
        recipe={"grid": dataclasses.asdict(spec), "variable": "adt"},
    )
    return out


def last_day(truth: Path) -> str:
    """ISO date of the truth's last day."""
    from oceaninterp.io import open_dataset

    return str(open_dataset(truth)["time"].values.max().astype("datetime64[D]"))


def _window(cube: Any, start: str, end: str) -> Any:
    times = cube["time"].values
    keep = (times >= np.datetime64(start, "ns")) & (times <= np.datetime64(end, "ns"))
    return cube.isel(time=np.flatnonzero(keep)).load()


def tune(setup: Setup, system: str) -> dict[str, Any]:
    """OI parameters of least RMSE against the truth SLA on the validation period.

    The OI maps the validation period from its observations and those of the
    :data:`SPINUP_DAYS` before it; each round of ``setup.candidates`` is tried
    around the best of the previous rounds (:func:`oceaninterp.oi.tune_oi`
    with a truth). Returns ``config`` (an ``OIConfig``), ``candidates`` and
    ``wall_s``.
    """
    from oceaninterp.config import OIConfig
    from oceaninterp.cube import to_kind
    from oceaninterp.io import open_dataset
    from oceaninterp.mdt import mdt_on_grid
    from oceaninterp.oi import tune_oi

    out = setup.work / oi_name(system) / "oi_config.json"
    cube_file = cube_path(setup, system)
    rounds = setup.candidates[SYSTEMS[system][1]]
    start, end = shift(setup.periods["val_start"], -SPINUP_DAYS), setup.periods["val_end"]

    def make() -> None:
        cube = _window(open_dataset(cube_file), start, end)
        mdt = mdt_on_grid(setup.mdt, cube["latitude"].values, cube["longitude"].values)
        sla, _ = to_kind(cube, "adt", "sla", mdt.values)
        truth = open_dataset(setup.truth)["ssh"].sel(time=cube["time"]).load() - mdt.values
        truth = truth.where(truth["time"] >= np.datetime64(setup.periods["val_start"], "ns"))
        cfg = OIConfig(signal_std=1.0)
        for candidates in rounds:
            # the best so far stays a candidate of every round
            tried = {k: sorted({*v, getattr(cfg, k)}) for k, v in candidates.items()}
            cfg = tune_oi(sla, tried, base=cfg, truth=truth)
            log.info("OI %s round %s -> %s", system, candidates, cfg)
        write_json(out, {"config": dataclasses.asdict(cfg), "candidates": rounds})

    record = setup.stages.make(
        out,
        f"tune OI {system}",
        make,
        inputs=[cube_file, setup.truth, setup.mdt],
        recipe={"candidates": rounds, "window": [start, end], "scored": setup.periods["val_start"]},
    )
    payload = json.loads(out.read_text())
    return {**payload, "config": OIConfig(**payload["config"]), "wall_s": record["wall_s"]}


def oi_name(system: str) -> str:
    """Work folder of a system's OI tuning (the OI ignores SST: SWOT systems share it)."""
    return "oi_" + "_".join(SYSTEMS[system][1])


def map_window(setup: Setup) -> tuple[str, str]:
    """Days mapped: the scored period and its spin-up before."""
    start, end = setup.scored()
    return shift(start, -SPINUP_DAYS), end


def net_folder(setup: Setup, system: str) -> Path:
    """Work folder of a system's 4DVarNet (``<system>`` for ADT, ``<system>_sla``)."""
    return setup.work / (system if setup.target == "adt" else f"{system}_sla")


def trained(setup: Setup, system: str) -> tuple[Path, dict[str, Any]]:
    """The system's 4DVarNet checkpoint and its training record.

    An interrupted training of the same recipe and inputs resumes from its
    resume file (:func:`oceaninterp.train.train`).
    """
    from oceaninterp.config import ModelConfig, TrainConfig
    from oceaninterp.train import resume_path, train

    out = net_folder(setup, system) / "model.pt"
    cube = cube_path(setup, system)
    model_cfg = ModelConfig(use_sst=SYSTEMS[system][2], **setup.model_options)
    cfg = TrainConfig(
        epochs=setup.epochs,
        tiles_per_epoch=setup.tiles_per_epoch,
        seed=setup.seed,
        **setup.periods,
        **setup.train_options,
    )
    mdt = setup.mdt if setup.target == "sla" else None
    inputs = [cube, setup.truth, *([mdt] if mdt else [])]
    recipe = {
        "model": dataclasses.asdict(model_cfg),
        "train": dataclasses.asdict(cfg),
        "device": "cpu",
    }
    resume = setup.stages.interrupted(out, inputs, recipe) and resume_path(out).exists()

    def make() -> dict[str, Any]:
        if not resume:
            resume_path(out).unlink(missing_ok=True)
        result = train(
            cube,
            setup.truth,
            out,
            cfg,
            model_cfg,
            device="cpu",
            resume=resume,
            overwrite=True,
            mdt=mdt,
        )
        return {
            "wall_s": result.wall_s,  # the training's own, resumed epochs included
            "device": result.device,
            "best_epoch": result.best_epoch,
            "best_val_mu": result.best_val_mu,
            "n_parameters": result.n_parameters,
            "epochs": cfg.epochs,
            "tiles_per_epoch": cfg.tiles_per_epoch,
            "seed": cfg.seed,
            "model": dataclasses.asdict(model_cfg),
            "train_options": setup.train_options,
            "history": [dataclasses.asdict(r) for r in result.history],
        }

    record = setup.stages.make(out, f"train {system}", make, inputs=inputs, recipe=recipe)
    return out, record


def pipeline_scores(setup: Setup, system: str) -> PipelineRun:
    """The OI's and the 4DVarNet's maps of the scored window and their scores, by the pipeline.

    ``pipelines/experiments/skill.toml`` with the system's observations, the
    tuned OI, the trained checkpoint and the window (one block, the scored
    period and its :data:`SPINUP_DAYS` before, no halo); the scores are of
    the scored period.
    """
    cfg = tune(setup, system)["config"]
    checkpoint, _ = trained(setup, system)
    folders = SYSTEMS[system][1]
    first, last = map_window(setup)
    days = int((np.datetime64(last, "D") - np.datetime64(first, "D")).astype(int)) + 1
    block = {"block_days": days, "halo_days": 0}
    obs = [str(setup.obs.resolve() / f / "**" / "*.nc") for f in folders]
    folder = net_folder(setup, system) / f"pipeline{setup.suffix()}"
    config = pipeline_from_template(
        PIPELINE,
        folder / "pipeline.toml",
        {
            "pipeline": {"name": f"skill_{system}", "output_root": str(folder)},
            "inputs": {
                "observations": obs,
                "sst": [str(setup.obs.resolve() / "sst" / "*.nc")] if "swot" in folders else [],
                "mdt": str(setup.mdt),
            },
            "grid": {"resolution": setup.resolution, "start": first, "end": last},
            "score": {"truth": str(setup.truth)},
        },
        {
            "oi": {**block, "oi": oi_table(cfg)},
            "4dvarnet": {**block, "checkpoint": str(checkpoint)},
        },
    )
    return run_pipeline_from(config, *setup.scored())


def score_system(setup: Setup, system: str) -> dict[str, Any]:
    """Score the OI and the 4DVarNet of a system on the scored period (one row)."""
    run = pipeline_scores(setup, system)
    oi, net = run.scores["oi"], run.scores["4dvarnet"]
    _, training = trained(setup, system)
    tuning = tune(setup, system)
    oi_cfg = tuning["config"]
    return {
        "system": system,
        "label": SYSTEMS[system][0],
        "target": setup.target,
        "oi": oi,
        "4dvarnet": net,
        "mse_gain": mse_gain(net["rmse_m"], oi["rmse_m"]),
        "lambda_x_ratio": net["lambda_x_deg"] / oi["lambda_x_deg"]
        if net["lambda_x_deg"] and oi["lambda_x_deg"]
        else None,
        "oi_params": {"lx": oi_cfg.lx, "lt": oi_cfg.lt, "noise": oi_cfg.noise},
        "oi_tune_wall_s": tuning["wall_s"],
        "oi_map_wall_s": run.wall_s.get("maps/oi"),
        "train": {k: v for k, v in training.items() if k not in ("history", "key")},
        "train_history": training["history"],
        "reconstruct_wall_s": run.wall_s.get("maps/4dvarnet"),
        "scores_dir": str(run.scores_dir),
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as a markdown table (one line per method and system)."""
    header = ["observing system", "method", *SCORE_HEADER, "MSE gain vs OI", "lambda_x / OI's"]
    lines = []
    for row in rows:
        oi = "OI (lx {lx:g} deg, lt {lt:g} d, noise {noise:g} m)".format(**row["oi_params"])
        lines.append([row["label"], oi, *score_cells(row["oi"]), "-", "-"])
        gain = cell(row["mse_gain"] * 100, "+.0f") + " %"
        net = f"4DVarNet ({TARGETS[row['target']]})"
        ratio = cell(row["lambda_x_ratio"], ".2f")
        lines.append([row["label"], net, *score_cells(row["4dvarnet"]), gain, ratio])
    return markdown_table(header, lines)


def run(
    setup: Setup, systems: list[str], results: Path, command: str, stage: str = "all"
) -> list[dict[str, Any]]:
    """All stages for ``systems``; write ``skill.md``/``skill.json`` and figures to ``results``.

    ``stage="oi"`` only tunes the OIs, ``"4dvarnet"`` only trains the models
    (two such runs can share the CPU); ``"all"`` makes what is stale, maps and
    scores.
    """
    for system in systems:
        make_cube(setup, system)
    if stage != "all":
        for system in systems:
            tune(setup, system) if stage == "oi" else trained(setup, system)
        return []
    rows = [score_system(setup, s) for s in systems]
    for row in rows:
        prefix = f"{row['system']}_{setup.target}_"
        copy_figures(Path(row["scores_dir"]), results, prefix, SCORE_FIGURES)
    text = table(rows)
    options = {**setup.model_options, **setup.train_options}
    epochs = f"{setup.epochs} epochs x {setup.tiles_per_epoch} tiles" + "".join(
        f", {k} {v}" for k, v in options.items()
    )
    meta = {
        "command": command,
        "truth": str(
            setup.truth.relative_to(ROOT) if setup.truth.is_relative_to(ROOT) else setup.truth
        ),
        "truth_seed": "2021 (sample_data, see sample_data/README.md)",
        "periods": setup.periods,
        "spinup_days": SPINUP_DAYS,
        "seed": setup.seed,
        "training": epochs,
        "model_options": setup.model_options,
        "train_options": setup.train_options,
        "oi_candidates": {"+".join(k): v for k, v in setup.candidates.items()},
        "quick": setup.quick,
        "target": setup.target,
        "host": host(),
    }
    stem = "skill" + ("" if setup.target == "sla" else f"_{setup.target}") + setup.suffix()
    write_json(results / f"{stem}.json", {"meta": meta, "rows": rows})
    walls = "\n".join(
        f"- {r['label']}: training {r['train']['wall_s'] / 60:.1f} min "
        f"(best epoch {r['train']['best_epoch']}/{r['train']['epochs']}, "
        f"{r['train']['n_parameters']} parameters, {r['train']['device']}); "
        f"4DVarNet {setup.period} maps {cell(r['reconstruct_wall_s'], '.0f')} s; "
        f"OI tuning {r['oi_tune_wall_s']:.0f} s, "
        f"OI {setup.period} maps {cell(r['oi_map_wall_s'], '.0f')} s"
        for r in rows
    )
    md = (
        f"{PERIOD_NAMES[setup.period]} period {setup.scored()[0]} .. {setup.scored()[1]} "
        f"({SPINUP_DAYS} days of spin-up observations before it), truth `{meta['truth']}` "
        f"(seed 2021), {setup.resolution:g} deg Gulf Stream box; "
        f"4DVarNet on {TARGETS[setup.target]}: "
        f"{epochs}, seed {setup.seed}, "
        f"trained on {setup.periods['train_start']} .. {setup.periods['train_end']}, "
        f"best epoch by validation mu on {setup.periods['val_start']} .. "
        f"{setup.periods['val_end']}; OI tuned against the truth on the validation period, "
        "rounds of candidates "
        f"{meta['oi_candidates']}."
        f"\n\n{text}\n\nCommand: `{command}`\n\nWall times "
        f"({meta['host']['cpu_count']} CPU cores, load {meta['host']['load_average_1min']:.1f}, "
        f"torch {meta['host']['torch']}):\n{walls}\n"
    )
    print(write_markdown(results / f"{stem}.md", md))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark; returns the exit status."""
    quick = "smoke run: nadir only, one OI candidate, 2 epochs of 8 tiles, 10 test days"
    parser = experiment_parser(__doc__, "skill", quick)
    parser.add_argument("--truth", type=Path, default=SAMPLE / "truth.nc")
    parser.add_argument(
        "--resolution",
        type=float,
        default=RESOLUTION,
        help="grid spacing of the cubes and maps, degrees; --truth must be on that grid "
        "(1/20 deg: --resolution 0.05 --model tile_latitude=96,tile_longitude=96, the same "
        "4.8 deg tiles)",
    )
    parser.add_argument("--obs", type=Path, default=SAMPLE / "obs")
    parser.add_argument(
        "--mdt",
        type=Path,
        default=SAMPLE / "mdt.nc",
        help="MDT file added back to the SLA maps (default: the sample's, what its files carry)",
    )
    parser.add_argument(
        "--periods",
        type=Path,
        default=SAMPLE / "train.toml",
        help="training TOML: [train] gives the six period dates, the epochs and tiles per "
        "epoch, and with [model] the recipe of every 4DVarNet (default: the shipped "
        "checkpoint's, sample_data/train.toml)",
    )
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help=f"comma-separated among {list(SYSTEMS)}"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="training epochs (default: the --periods TOML's)"
    )
    parser.add_argument(
        "--tiles-per-epoch",
        type=int,
        default=None,
        help="random training tiles per epoch (default: the --periods TOML's)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stage",
        choices=("all", "oi", "4dvarnet"),
        default="all",
        help="only tune the OIs or only train the 4DVarNets (no maps, no scores)",
    )
    parser.add_argument(
        "--target",
        choices=("sla", "adt"),
        default="sla",
        help="4DVarNet on SLA (ADT minus the files' MDT, added back; as the OI) "
        "or on the ADT cube as is",
    )
    parser.add_argument(
        "--model",
        default="",
        help="ModelConfig options over the TOML's, e.g. prior_width=32,lstm_hidden=32",
    )
    parser.add_argument(
        "--train",
        default="",
        help="TrainConfig options over the TOML's, e.g. gradient_weight=1000",
    )
    parser.add_argument(
        "--score-period",
        choices=tuple(PERIOD_NAMES),
        default="test",
        help="map and score the test period (the leaderboard) or the validation period "
        "(to compare recipes without seeing the test; writes skill_val.md)",
    )
    args = parser.parse_args(argv)
    from oceaninterp.config import ModelConfig, TrainConfig
    from oceaninterp.config import read_train_config as read_config

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work, results = experiment_folders(args, "skill", ROOT)
    periods = read_periods(args.periods)
    systems = [s for s in args.systems.split(",") if s]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown system(s) {unknown}; expected some of {list(SYSTEMS)}")
    _, recipe = read_config(args.periods)
    model_options, train_options = read_recipe(args.periods)
    model_options.update(_options(args.model, ModelConfig))
    train_options.update(_options(args.train, TrainConfig))
    epochs = recipe.epochs if args.epochs is None else args.epochs
    tiles = recipe.tiles_per_epoch if args.tiles_per_epoch is None else args.tiles_per_epoch
    candidates = OI_CANDIDATES
    if args.quick:
        systems, candidates, epochs, tiles = ["nadir"], QUICK_OI_CANDIDATES, 2, 8
        periods = {**periods, "test_end": shift(periods["test_start"], 9)}
    setup = Setup(
        work=work,
        truth=args.truth.resolve(),
        obs=args.obs,
        periods=periods,
        epochs=epochs,
        tiles_per_epoch=tiles,
        seed=args.seed,
        candidates=candidates,
        quick=args.quick,
        last_day=last_day(args.truth),
        target=args.target,
        mdt=args.mdt.resolve(),
        model_options=model_options,
        train_options=train_options,
        period=args.score_period,
        resolution=args.resolution,
    )
    command = " ".join(["python benchmarks/skill.py", *(sys.argv[1:] if argv is None else argv)])
    run(setup, systems, results, command, args.stage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
