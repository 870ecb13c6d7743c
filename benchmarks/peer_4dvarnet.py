"""Peer run: the packaged reference 4DVarNet (PyPI ``ocean4dvarnet`` 1.0.6) against ours.

Both are trained on the same cube (the sample OSSE's nadirs + SWOT, gridded as
ADT at 0.1 deg by ``oceaninterp grid``, minus ``sample_data/mdt.nc``: both learn
the SLA) against the same truth (``sample_data/truth.nc`` minus the same MDT),
on the periods of ``sample_data/train.toml``, with the same CPU thread count,
one after the other:

1. ours: ``oceaninterp train`` with the recipe of ``sample_data/train.toml``
   but ``--epochs`` (and ``--tiles-per-epoch``) of this script; its wall time W
   is measured;
2. theirs: ``ocean4dvarnet``'s ``BaseDataModule``, ``Lit4dVarNet``,
   ``GradSolver``, ``BilinAEPriorCost`` and ``ConvLstmGradModel`` with the
   values of the 4dvarnet-starter's ``config/xp/base.yaml`` (the 2020a Gulf
   Stream OSSE: 15-day patches, prior width 32 at half resolution with
   ``bilin_quad`` off, ConvLSTM width 48, 10 solver steps, ``lr_grad`` 1e3,
   Adam 1e-3 with a cosine schedule over 150 epochs, batch 4, two swapped-mask
   copies of each patch only, gradient clipping 0.5, triangular time weight),
   trained by Lightning's ``Trainer(max_time=W)``. The starter's patch spans its
   whole 12-degree domain (240 cells of 1/20 deg); here it spans our 10-degree
   box (100 cells of 0.1 deg), without the 20-cell border crop of its loss
   weight, which would leave the border of a single patch unmapped;
3. both map the test period (ours ``oceaninterp reconstruct``, theirs
   ``Trainer.test`` with its best validation checkpoint, patches merged by its
   own ``XrDataset.reconstruct``) from the same cube cut to the test period
   plus 7 days on each side, and ``oceaninterp score`` scores both against the
   truth on the test period, on the points where both maps are valid.

``ocean4dvarnet`` pins numpy, xarray and Lightning, so it lives in its own
environment outside the repository; this script makes it when it is absent
(``--peer-python``; pip, about 1.5 GB with the CPU build of torch)::

    python3 -m venv /tmp/venv-peer
    /tmp/venv-peer/bin/pip install torch==2.13.0
    /tmp/venv-peer/bin/pip install ocean4dvarnet==1.0.6 kornia omegaconf metpy xrft \\
        matplotlib tabulate -c <(echo torch==2.13.0)
    /tmp/venv-peer/bin/pip install "setuptools<70"

(kornia, omegaconf, metpy, xrft, matplotlib and tabulate are imported by ``ocean4dvarnet``
but not declared; the constraint keeps torch 2.13.0, which declares
setuptools >= 77 while Lightning 2.3.3 needs ``pkg_resources``, gone from
setuptools 70: pip warns about that conflict, and both import.) The script
runs twice over, as ``eddies.py``: with the project's Python it trains ours and
scores, and it calls itself under ``--peer-python`` with ``--peer-driver``,
which imports only ``ocean4dvarnet`` and its dependencies. No code of
``ocean4dvarnet`` is copied here: the driver calls its public classes.

Run (the defaults: 3 epochs of ours, which lasted 13 minutes on 2 cores shared
with other jobs, load average 9 to 15; the whole run 32 minutes)::

    python benchmarks/peer_4dvarnet.py --work runs/peer/work \\
        --md benchmarks/results/peer_4dvarnet.md --json benchmarks/results/peer_4dvarnet.json

The smallest run (``--epochs 1 --tiles-per-epoch 4 --test-days 5``) takes about
4 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
PEER_PACKAGE = "ocean4dvarnet==1.0.6"
PEER_TORCH = "torch==2.13.0"
#: Imported by ocean4dvarnet but not declared by it (tabulate: by pandas's to_markdown
#: in its test step).
PEER_UNDECLARED = ("kornia", "omegaconf", "metpy", "xrft", "matplotlib", "tabulate")
#: Days of observations kept on each side of the test period for both methods.
CONTEXT_DAYS = 7

#: The starter's 2020a OSSE values (4dvarnet-starter config/xp/base.yaml), the
#: patch scaled from its 240 cells of 1/20 deg (its whole domain) to our box.
PEER_CONFIG = {
    "patch_days": 15,
    "prior_hidden": 32,
    "prior_downsample": 2,
    "bilin_quad": False,
    "lstm_hidden": 48,
    "solver_steps": 10,
    "lr_grad": 1e3,
    "lr": 1e-3,
    "max_epochs": 150,
    "batch_size": 4,
    "num_workers": 1,
    "aug_factor": 2,
    "gradient_clip": 0.5,
    "time_weight_offset": 1,
    "seed": 333,
}


#: What differs between the two runs, for the report.
DIFFERENCES = (
    "- Model: ours is the recipe of sample_data/train.toml (48 x 48-cell tiles, prior "
    "width 96, ConvLSTM 64 at half resolution, 8 solver steps started from a Gaussian "
    "gap-filling); theirs is the starter's (one 100 x 100-cell patch, prior width 32 at half "
    "resolution, ConvLSTM 48 at full resolution, 10 solver steps started from the "
    "observations with zeros in the gaps).",
    "- Loss: ours weighs the Sobel-gradient term 4000, theirs 1000 (50 MSE + 1000 gradient "
    "+ prior), the starter's value.",
    "- Schedule: ours runs its cosine schedule to the end of its epochs; theirs is the "
    "starter's cosine over 150 epochs, cut by max_time, so its learning rate hardly decays.",
    "- Sampling: ours draws random tiles each epoch (half of them with swapped observation "
    "masks); theirs takes every 15-day window of the training period twice, with other "
    "windows' masks only (aug_factor 2, aug_only).",
    "- Time: ours is the wall time of the whole `oceaninterp train` process (start-up, "
    "data, validation); theirs is that of `Trainer.fit` (data setup, sanity validation, "
    "training, the validation that ends the stopped epoch): Lightning's max_time counts "
    "from the start of training only, so the fit lasts longer than the budget.",
    "- Map: ours merges overlapping 48-cell tiles; theirs one patch per day, windows "
    "merged with the starter's triangular time weight, no border crop (the starter crops 20 "
    "of 240 cells, which would leave our single patch's border unmapped).",
)

#: What it took to run ocean4dvarnet 1.0.6, for the report.
ENVIRONMENT_NOTES = (
    "Its environment (made by the script, see its docstring): ocean4dvarnet 1.0.6 declares "
    "only xarray 2025.1.2, numpy 1.26.4, netCDF4, pandas and pytorch-lightning 2.3.3; it "
    "imports kornia, omegaconf, metpy, xrft and matplotlib at import time and tabulate in its "
    "test step (pandas' to_markdown: without it `Trainer.test` fails with `ImportError: "
    "Import tabulate failed`, after the maps are made). Installed in one go with "
    '"setuptools<70", pip replaces torch 2.13.0 by 2.12.1 with its CUDA wheels (torch 2.13.0 '
    "declares setuptools >= 77.0.3): hence the torch constraint and setuptools < 70 "
    "installed last (pip warns of the conflict; Lightning imports).",
)

# ----------------------------------------------------------------------------- peer side


def peer_driver(args: argparse.Namespace) -> None:
    """Train ocean4dvarnet for ``--max-seconds`` and map the test window (peer environment).

    Writes ``--peer-map`` (``sla`` and ``adt``, m, on time/latitude/longitude)
    and prints one JSON line: the fit's wall time (s), epochs and optimiser
    steps done, the parameter count and the checkpoint used.
    """
    import datetime
    import functools

    import numpy as np
    import pytorch_lightning as pl
    import torch
    import xarray as xr
    from ocean4dvarnet import data, models, utils

    torch.set_num_threads(args.threads)
    c = PEER_CONFIG
    periods = _periods(args.config)
    cube = xr.open_dataset(args.cube)
    mdt = xr.open_dataset(args.mdt)["mdt"]
    truth = xr.open_dataset(args.truth)["ssh"].sel(time=cube["time"])
    obs = cube["ssh"].where(cube["count"] > 0)
    sla = xr.Dataset({"input": obs - mdt, "tgt": truth - mdt})
    sla = sla.rename(latitude="lat", longitude="lon").drop_vars(
        [v for v in ("lat_bnds", "lon_bnds", "time_bnds", "crs") if v in sla.variables]
    )
    input_da = sla[["input", "tgt"]].transpose("time", "lat", "lon").to_array().load()
    ny, nx = input_da.sizes["lat"], input_da.sizes["lon"]
    patch = {"time": c["patch_days"], "lat": ny, "lon": nx}
    test_start, test_end = _widened(periods["test_start"], periods["test_end"])
    dm = data.BaseDataModule(
        input_da=input_da,
        domains={
            "train": {"time": slice(periods["train_start"], periods["train_end"])},
            "val": {"time": slice(periods["val_start"], periods["val_end"])},
            "test": {"time": slice(test_start, test_end)},
        },
        xrds_kw={"patch_dims": patch, "strides": {"time": 1, "lat": ny, "lon": nx}},
        dl_kw={"batch_size": c["batch_size"], "num_workers": c["num_workers"]},
        aug_kw={"aug_factor": c["aug_factor"], "aug_only": True},
    )
    solver = models.GradSolver(
        prior_cost=models.BilinAEPriorCost(
            c["patch_days"],
            c["prior_hidden"],
            downsamp=c["prior_downsample"],
            bilin_quad=c["bilin_quad"],
        ),
        obs_cost=models.BaseObsCost(),
        grad_mod=models.ConvLstmGradModel(c["patch_days"], c["lstm_hidden"]),
        n_step=c["solver_steps"],
        lr_grad=c["lr_grad"],
    )
    weight = utils.get_triang_time_wei(
        patch, offset=c["time_weight_offset"], crop={"time": 0, "lat": 0, "lon": 0}
    )
    lit = models.Lit4dVarNet(
        solver=solver,
        rec_weight=weight,
        opt_fn=functools.partial(utils.cosanneal_lr_adam, lr=c["lr"], T_max=c["max_epochs"]),
        persist_rw=False,
    )
    work = Path(args.work)
    best = pl.callbacks.ModelCheckpoint(
        dirpath=work / "peer_checkpoints", monitor="val_mse", save_top_k=1
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        inference_mode=False,
        gradient_clip_val=c["gradient_clip"],
        max_epochs=c["max_epochs"],
        max_time=datetime.timedelta(seconds=args.max_seconds),
        logger=pl.loggers.CSVLogger(work, name="peer_logs", version=""),
        callbacks=[best],
        enable_progress_bar=False,
    )
    pl.seed_everything(c["seed"])
    start = time.perf_counter()
    trainer.fit(lit, datamodule=dm)
    fit_s = time.perf_counter() - start
    epochs, steps = trainer.current_epoch, trainer.global_step
    ckpt = best.best_model_path or None
    trainer.test(lit, datamodule=dm, ckpt_path=ckpt)
    out = lit.test_data["out"].rename(lat="latitude", lon="longitude")
    out = out.astype(np.float32)
    mdt_grid = mdt.astype(np.float32)
    maps = xr.Dataset({"sla": out, "adt": out + mdt_grid}).transpose(
        "time", "latitude", "longitude"
    )
    maps["adt"].attrs.update(units="m", ssh_kind="adt")
    maps["sla"].attrs.update(units="m", ssh_kind="sla")
    maps.attrs["source"] = f"{PEER_PACKAGE}, benchmarks/peer_4dvarnet.py"
    maps.to_netcdf(args.peer_map)
    record = {
        "fit_s": fit_s,
        "epochs_done": epochs,
        "steps_done": steps,
        "parameters": sum(p.numel() for p in lit.parameters()),
        "checkpoint": Path(ckpt).name if ckpt else "last weights (no validation ran)",
        "torch": torch.__version__,
        "lightning": pl.__version__,
    }
    print("PEER " + json.dumps(record), flush=True)


# ----------------------------------------------------------------------------- our side


def _periods(config: str | Path) -> dict[str, str]:
    """The train/val/test dates (YYYY-MM-DD) of a training TOML's [train] table."""
    table = tomllib.loads(Path(config).read_text())["train"]
    keys = [f"{p}_{e}" for p in ("train", "val", "test") for e in ("start", "end")]
    return {k: str(table[k]) for k in keys}


def _widened(start: str, end: str) -> tuple[str, str]:
    """The test period with :data:`CONTEXT_DAYS` days more on each side (YYYY-MM-DD)."""
    import datetime

    day = datetime.timedelta(days=CONTEXT_DAYS)
    lo = datetime.date.fromisoformat(start) - day
    hi = datetime.date.fromisoformat(end) + day
    return lo.isoformat(), hi.isoformat()


def _toml(tables: dict[str, dict]) -> str:
    """TOML text of flat tables of str, int and float values."""
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def ensure_peer_python(python: Path) -> None:
    """Make the peer environment (see the module docstring) unless ``python`` exists."""
    if python.exists():
        return
    venv = python.parents[1]
    constraint = venv.parent / f"{venv.name}-constraint.txt"
    constraint.write_text(PEER_TORCH + "\n")
    pip = [str(python), "-m", "pip", "install", "-q"]
    for cmd in (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, PEER_TORCH],
        [*pip, PEER_PACKAGE, *PEER_UNDECLARED, "-c", str(constraint)],
        [*pip, "setuptools<70"],
    ):
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``cmd``; its wall time (s) and its output (printed too). Stops on failure."""
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", flush=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}")
    return wall, done.stdout + done.stderr


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def run(args: argparse.Namespace) -> dict:
    """Grid, train both, map both, score both; the record of the comparison."""
    import datetime

    import xarray as xr

    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    peer_python = Path(args.peer_python)
    ensure_peer_python(peer_python)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(args.threads),
        "MKL_NUM_THREADS": str(args.threads),
        "OMP_WAIT_POLICY": "PASSIVE",
        "MPLBACKEND": "Agg",
    }
    cli = [sys.executable, "-m", "oceaninterp"]
    recipe = tomllib.loads(Path(args.config).read_text())
    recipe["train"]["epochs"] = args.epochs
    if args.tiles_per_epoch:
        recipe["train"]["tiles_per_epoch"] = args.tiles_per_epoch
    if args.test_days:
        first = datetime.date.fromisoformat(str(recipe["train"]["test_start"]))
        last = first + datetime.timedelta(days=args.test_days - 1)
        recipe["train"]["test_end"] = last.isoformat()
    config = work / "ours.toml"
    config.write_text(_toml(recipe))
    periods = _periods(config)
    cube = work / "cube.nc"
    grid = [
        *cli,
        *("grid", str(SAMPLE / "obs" / "nadir"), str(SAMPLE / "obs" / "swot")),
        *("-o", str(cube), "-x", "-65", "-X", "-55", "-y", "33", "-Y", "43"),
        *("-t", "2022-01-01", "-T", "2022-12-31", "--resolution", "0.1", "--variable", "adt"),
    ]
    if not cube.exists():
        _run(grid, env)
    lo, hi = _widened(periods["test_start"], periods["test_end"])
    test_cube = work / "cube_test.nc"
    with xr.open_dataset(cube) as ds:
        ds.sel(time=slice(lo, hi)).load().to_netcdf(test_cube)

    truth, mdt = str(SAMPLE / "truth.nc"), str(SAMPLE / "mdt.nc")
    model = work / "ours.pt"
    ours_train = [
        *(*cli, "train", str(cube), "--truth", truth, "--mdt", mdt, "-o", str(model)),
        *("--config", str(config), "--device", "cpu", "--seed", "0", "--overwrite"),
    ]
    load_before_ours = os.getloadavg()
    ours_s, _ = _run(ours_train, env)
    load_after_ours = os.getloadavg()
    ours_map = work / "ours.nc"
    ours_rec = [
        *(*cli, "reconstruct", str(test_cube), "-c", str(model), "--mdt", mdt),
        *("--device", "cpu", "-o", str(ours_map), "--overwrite"),
    ]
    _run(ours_rec, env)

    budget = args.budget_seconds or ours_s
    peer_map = work / "theirs.nc"
    peer = [
        *(str(peer_python), str(Path(__file__).resolve()), "--peer-driver"),
        *("--cube", str(cube), "--peer-map", str(peer_map), "--work", str(work)),
        *("--max-seconds", f"{budget:.1f}", "--threads", str(args.threads)),
        *("--config", str(config)),
    ]
    load_before_peer = os.getloadavg()
    peer_s, peer_out = _run(peer, env)
    load_after_peer = os.getloadavg()
    peer_record = json.loads(
        next(line for line in peer_out.splitlines() if line.startswith("PEER "))[5:]
    )

    report = work / "scores"
    _run(
        [
            *(*cli, "score", str(ours_map), str(peer_map), "--truth", truth),
            *("-o", str(report), "-t", periods["test_start"], "-T", periods["test_end"]),
            "--overwrite",
        ],
        env,
    )
    scores = {r["name"]: r for r in json.loads((report / "scores.json").read_text())}
    ours, theirs = scores["ours"], scores["theirs"]
    ratios = {
        k: theirs[k] / ours[k] if ours[k] and theirs[k] is not None else None
        for k in ("mu", "rmse_m", "lambda_x_deg")
    }
    ratios["train_s"] = peer_record["fit_s"] / ours_s
    return {
        "hardware": f"{_cpu_name()}, {os.cpu_count()} logical CPUs, shared",
        "threads": args.threads,
        "budget_s": budget,
        "epochs_ours": args.epochs,
        "tiles_per_epoch_ours": recipe["train"].get("tiles_per_epoch"),
        "periods": periods,
        "scored": [periods["test_start"], periods["test_end"]],
        "ours": {**ours, "train_s": ours_s},
        "theirs": {**theirs, "train_s": peer_record["fit_s"], "process_s": peer_s, **peer_record},
        "ratios_theirs_over_ours": ratios,
        "load_average": {
            "before_ours": load_before_ours,
            "after_ours": load_after_ours,
            "before_theirs": load_before_peer,
            "after_theirs": load_after_peer,
        },
        "peer_config": PEER_CONFIG,
        "commands": {
            "grid": " ".join(grid),
            "ours_train": " ".join(ours_train),
            "ours_reconstruct": " ".join(ours_rec),
            "theirs": " ".join(peer),
        },
    }


def _fmt(value: float | None, scale: float = 1.0, digits: int = 3) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def markdown(rec: dict, argv: list[str]) -> str:
    """The result table and how it was made."""
    o, t, r = rec["ours"], rec["theirs"], rec["ratios_theirs_over_ours"]
    load = rec["load_average"]
    rows = [
        ("mu", _fmt(o["mu"]), _fmt(t["mu"]), _fmt(r["mu"], digits=2)),
        (
            "RMSE (cm)",
            _fmt(o["rmse_m"], 100, 2),
            _fmt(t["rmse_m"], 100, 2),
            _fmt(r["rmse_m"], digits=2),
        ),
        (
            "lambda_x (deg)",
            _fmt(o["lambda_x_deg"], 1, 2),
            _fmt(t["lambda_x_deg"], 1, 2),
            _fmt(r["lambda_x_deg"], digits=2),
        ),
        (
            "training wall time (s)",
            f"{o['train_s']:.0f}",
            f"{t['train_s']:.0f}",
            _fmt(r["train_s"], digits=2),
        ),
    ]
    table = [
        "| | ours (oceaninterp) | theirs (ocean4dvarnet 1.0.6) | theirs / ours |",
        "|---|---|---|---|",
    ]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    cmds = rec["commands"]
    return "\n".join(
        [
            "# Peer run: ocean4dvarnet 1.0.6 against oceaninterp, same cube, same wall-clock "
            "budget",
            "",
            f"`{' '.join(['python benchmarks/peer_4dvarnet.py', *argv])}`; "
            f"{rec['hardware']}; {rec['threads']} torch/OpenMP threads each, one after the other; "
            f"budget {rec['budget_s']:.0f} s (our training's wall time, given to theirs as "
            f"Lightning's `max_time`). Test period {rec['scored'][0]} .. {rec['scored'][1]}, "
            "whole box, SLA maps plus the same MDT scored as ADT against "
            "`sample_data/truth.nc` by `oceaninterp score` (2020a scores).",
            "",
            *table,
            "",
            f"Ours: {rec['epochs_ours']} epochs of {rec['tiles_per_epoch_ours']} tiles "
            "(sample_data/train.toml otherwise). Theirs: "
            f"{t['epochs_done']} epoch(s) begun, {t['steps_done']} optimiser steps, "
            f"{t['parameters']:,} parameters, test with {t['checkpoint']}; "
            f"torch {t['torch']}, Lightning {t['lightning']}.",
            f"Load average (1, 5, 15 min): before ours {_load(load['before_ours'])}, "
            f"after {_load(load['after_ours'])}; before theirs {_load(load['before_theirs'])}, "
            f"after {_load(load['after_theirs'])}.",
            "",
            "What differs between the two setups (everything else is shared: cube, truth, "
            "MDT, periods, threads, CPU, scorer):",
            "",
            *DIFFERENCES,
            "",
            *ENVIRONMENT_NOTES,
            "",
            "Commands (run by the script):",
            "",
            "```bash",
            cmds["grid"],
            cmds["ours_train"],
            cmds["ours_reconstruct"],
            cmds["theirs"],
            "```",
            "",
        ]
    )


def _load(values: list[float] | tuple[float, ...]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--work", default="runs/peer/work", help="working folder (cube, models, maps)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch/OpenMP threads of each")
    parser.add_argument(
        "--config",
        default=str(SAMPLE / "train.toml"),
        help="our training recipe (TOML); its [train] periods serve both",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=3,
        help="our epochs; their budget is our training's wall time",
    )
    parser.add_argument(
        "--tiles-per-epoch", type=int, default=0, help="our tiles per epoch (0: the recipe's)"
    )
    parser.add_argument(
        "--test-days",
        type=int,
        default=0,
        help="map and score only this many days from the test start (>= 5; 0: all)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=0.0,
        help="their Lightning max_time, s (0: our training's wall time)",
    )
    parser.add_argument(
        "--peer-python",
        default="/tmp/venv-peer/bin/python",
        help="Python of the ocean4dvarnet environment (made when absent)",
    )
    parser.add_argument("--md", help="write the Markdown table here")
    parser.add_argument("--json", help="write the record here")
    peer = parser.add_argument_group("internal (run under --peer-python)")
    peer.add_argument("--peer-driver", action="store_true", help="train and map ocean4dvarnet")
    peer.add_argument("--cube", help="the ADT cube")
    peer.add_argument("--peer-map", help="the map to write")
    peer.add_argument("--max-seconds", type=float, help="Lightning max_time, s")
    peer.add_argument("--truth", default=str(SAMPLE / "truth.nc"), help="the truth")
    peer.add_argument("--mdt", default=str(SAMPLE / "mdt.nc"), help="the MDT")
    args = parser.parse_args(argv)
    if args.peer_driver:
        peer_driver(args)
        return
    rec = run(args)
    text = markdown(rec, sys.argv[1:] if argv is None else argv)
    print(text)
    if args.md:
        Path(args.md).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(rec, indent=2) + "\n")


if __name__ == "__main__":
    main()
