"""OSE on the real Jason-3 cycle: map from most passes, score on the withheld ones (2021a way).

Usage::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/ose_jason3.py \\
        [--real-data ../shared/data/real] [--work runs/ose_jason3] \\
        [--box -75 -45 25 50 [--box ...]] [--every 4] \\
        [--checkpoint sample_data/one_altimeter.pt] \\
        [--finetune [--train-box -80 0 20 60] [--minutes 12] [--epochs 4] \\
         [--tiles-per-epoch 64] [--hidden-share 0.25] [--lr-scale 0.1] [--tag NAME]]

The ten NASA-SSH files of ``--real-data`` (2022-01-01..10, one Jason-3 repeat
cycle) are split by pass number: the passes with ``pass % every == 0`` are
withheld (written to ``WORK/withheld``), the others (``WORK/mapped``) are
gridded over each box at 1/10 deg (``oceaninterp grid``, land masked; in
``WORK`` for one box, ``WORK/X0_X1_Y0_Y1`` for several) and mapped by

- the 4DVarNet of ``--checkpoint`` with ``--outside oi`` (the default: rows
  outside its training latitudes by the OI) and with ``--outside apply``
  (the model everywhere);
- the OI with its defaults (1 deg, 7 days, 5 cm; prior std estimated from the
  observations) and with the data challenge's unit covariance (``--signal-std 1``);
- the 4DVarNet normalised by the mapped observations' mean and std
  (``--normalise observations``, ``--outside oi``), alone and averaged with
  the OI (``--oi-weight 0.5``);

With ``--finetune``, the checkpoint is also fine-tuned on the MAPPED passes
only (``oceaninterp train --self-supervised``: hidden track segments, misfit
plus prior), gridded over the larger ``--train-box`` (default the North
Atlantic 80W..0E, 20..60N, at the checkpoint's 1/10 deg) so that there are
enough tiles, within ``--minutes`` of wall time; the fine-tuned model maps the
box like the others (``--outside apply``). The withheld passes are never seen
in training.

Every map is scored against the withheld passes by ``oceaninterp score
--tracks`` (SLA against SLA): mu, RMSE and lambda_x of the 2021a data
challenge, and the MSE gain over the OI with its 95 % interval from a
bootstrap over the withheld passes (an interval across 0: no proven
difference). With several boxes a last table pools their withheld points.
The tables go to ``WORK/ose_jason3.md``. One repeat cycle gives a noisy
lambda_x (few long tracks; "-" when a map's spectral score never crosses
0.5): read mu, RMSE and the gain's interval first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.report import WithheldValues, withheld_values
from oceaninterp.scores import paired_mse_gain

ROOT = Path(__file__).resolve().parents[1]
#: The map every other is compared with (MSE gain and its interval by withheld pass).
BASELINE = "oi (estimated prior std)"
#: The Gulf Stream box (degrees east and north).
DEFAULT_BOX = (-75.0, -45.0, 25.0, 50.0)


def split_passes(files: list[Path], work: Path, every: int) -> tuple[Path, Path]:
    """Write each file's kept and withheld passes to ``work/mapped`` and ``work/withheld``."""
    kept, held = work / "mapped", work / "withheld"
    for folder in (kept, held):
        folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        with xr.open_dataset(path) as lazy:
            ds = lazy.load()  # fancy indexing of the file itself is very slow
        out = np.asarray(ds["pass"].values).astype(np.int64) % every == 0
        for folder, select in ((kept, ~out), (held, out)):
            ds.isel(time=np.flatnonzero(select)).to_netcdf(folder / path.name)
    return kept, held


def oceaninterp(*args: str) -> None:
    """Run one ``oceaninterp`` command, stopping on failure."""
    done = subprocess.run([sys.executable, "-m", "oceaninterp", *args], check=False)
    if done.returncode != 0:
        raise SystemExit(f"oceaninterp {args[0]} failed (exit {done.returncode})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "ose_jason3")
    parser.add_argument(
        "--box",
        type=float,
        nargs=4,
        action="append",
        metavar=("LON_MIN", "LON_MAX", "LAT_MIN", "LAT_MAX"),
        help="repeatable (boxes must not overlap); default the Gulf Stream box -75 -45 25 50",
    )
    parser.add_argument("--every", type=int, default=4, help="withhold passes with pass %% N == 0")
    parser.add_argument(
        "--checkpoint", type=Path, default=ROOT / "sample_data" / "one_altimeter.pt"
    )
    parser.add_argument("--finetune", action="store_true", help="add a self-supervised row")
    parser.add_argument(
        "--train-box",
        type=float,
        nargs=4,
        default=(-80.0, 0.0, 20.0, 60.0),
        metavar=("LON_MIN", "LON_MAX", "LAT_MIN", "LAT_MAX"),
    )
    parser.add_argument("--minutes", type=float, default=12.0, help="fine-tuning wall time")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--tiles-per-epoch", type=int, default=64)
    parser.add_argument("--hidden-share", type=float, default=0.25)
    parser.add_argument("--lr-scale", type=float, default=0.1)
    parser.add_argument(
        "--renormalise", action="store_true", help="fine-tune with the data's mean and std"
    )
    parser.add_argument("--tag", default="", help="suffix of the fine-tuned checkpoint's name")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the split, cubes and base maps of WORK"
    )
    opts = parser.parse_args(argv)
    files = sorted((opts.real_data / "nadir" / "nasa_ssh_jason3").glob("*.nc"))
    if not files:
        raise SystemExit(f"error: {opts.real_data}: no nadir/nasa_ssh_jason3/*.nc")
    boxes: list[tuple[float, ...]] = [tuple(b) for b in opts.box] if opts.box else [DEFAULT_BOX]
    work = opts.work
    kept, held = work / "mapped", work / "withheld"
    if not (opts.reuse and held.is_dir()):
        kept, held = split_passes(files, work, opts.every)
    runs = {
        "4dvarnet (--outside oi)": ["-c", str(opts.checkpoint)],
        "4dvarnet (--outside apply)": ["-c", str(opts.checkpoint), "--outside", "apply"],
        BASELINE: ["--method", "oi"],
        "oi (unit covariance)": ["--method", "oi", "--signal-std", "1"],
        "4dvarnet --normalise observations (--outside oi)": [
            "-c",
            str(opts.checkpoint),
            "--normalise",
            "observations",
        ],
        "4dvarnet --normalise observations --oi-weight 0.5 (--outside oi)": [
            "-c",
            str(opts.checkpoint),
            "--normalise",
            "observations",
            "--oi-weight",
            "0.5",
        ],
    }
    names = [f"map{i}" for i in range(len(runs))]
    notes = []
    if opts.finetune:
        tuned, note = finetune(kept, work, opts)
        if opts.renormalise:
            runs["4dvarnet renormalised, not fine-tuned"] = [
                "-c",
                str(renormalised(opts.checkpoint, work / "train_cube.nc", work)),
                "--outside",
                "apply",
            ]
            names.append("map_renormalised")
        runs[f"4dvarnet fine-tuned{' ' + opts.tag if opts.tag else ''}"] = [
            "-c",
            str(tuned),
            "--outside",
            "apply",
        ]
        names.append(f"map_{tuned.stem}")
        notes.append(note)
    held_files = sorted(held.glob("*.nc"))
    lines, pooled = [], []
    for box in boxes:
        folder = work if len(boxes) == 1 else work / box_name(box)
        maps = [folder / f"{name}.nc" for name in names]
        lines += map_box(box, folder, kept, held, runs, maps, opts)
        lines += ["", observed_std(folder / "cube.nc", opts.checkpoint), ""]
        pooled.append(withheld_values([str(m) for m in maps], held_files))
    if len(boxes) > 1:
        lines += pooled_table(list(runs), pooled)
    text = (
        "\n".join(
            [
                f"# OSE, real Jason-3 cycle 2022-01-01..10, 1/10 deg, passes with pass % "
                f"{opts.every} == 0 withheld",
                "",
                *lines,
                *notes,
            ]
        ).rstrip()
        + "\n"
    )
    (work / f"ose_jason3{suffix(opts)}.md").write_text(text)
    print(text)


def map_box(
    box: tuple[float, ...],
    folder: Path,
    kept: Path,
    held: Path,
    runs: dict[str, list[str]],
    maps: list[Path],
    opts: argparse.Namespace,
) -> list[str]:
    """Grid ``box`` into ``folder``, map it with every run, score the maps: the table's lines."""
    cube = folder / "cube.nc"
    if not (opts.reuse and cube.is_file()):
        grid(kept, cube, box)
    for args, out in zip(runs.values(), maps, strict=True):
        if not (
            opts.reuse and out.is_file() and out.name.startswith("map") and out.stem[3:].isdigit()
        ):
            oceaninterp("reconstruct", str(cube), *args, "-o", str(out), "--overwrite")
    report = folder / f"scores{suffix(opts)}"
    baseline = maps[list(runs).index(BASELINE)]
    scored = [baseline, *(m for m in maps if m != baseline)]  # gains are against the first
    oceaninterp("score", *map(str, scored), "--tracks", str(held), "-o", str(report), "--overwrite")
    scores = json.loads((report / "scores.json").read_text())
    lines = [
        f"## Box {box_name(box)} (longitude {box[0]}..{box[1]}, latitude {box[2]}..{box[3]})",
        "",
        "| map | mu | RMSE (cm) | lambda_x (km) | MSE gain vs the OI [95 % interval] |",
        "|---|---|---|---|---|",
    ]
    for label, path in zip(runs, maps, strict=True):
        row = _row(scores, path.stem)
        lines.append(f"| {label} | {row['mu']} | {row['rmse']} | {row['lx']} | {row['gain']} |")
    return lines


def suffix(opts: argparse.Namespace) -> str:
    """``_TAG`` for ``--tag TAG``, else nothing: the end of the report's names."""
    return f"_{opts.tag}" if opts.tag else ""


def box_name(box: tuple[float, ...]) -> str:
    """``-75_-45_25_50``: a box's folder name."""
    return "_".join(f"{v:g}" for v in box)


def pooled_table(labels: list[str], per_box: list[WithheldValues]) -> list[str]:
    """Every map against the OI over the withheld points of all boxes together.

    The passes of different boxes are different groups of the bootstrap (the
    boxes must not overlap, or points would count twice).
    """
    base = labels.index(BASELINE)
    lines = [
        f"## Pooled over the {len(per_box)} boxes",
        "",
        "| map | RMSE (cm) | MSE gain vs the OI [95 % interval] | points | passes |",
        "|---|---|---|---|---|",
    ]
    offsets = np.cumsum([0] + [int(v.passes.max()) + 1 for v in per_box[:-1]])
    groups = np.concatenate([v.passes[v.valid] + o for v, o in zip(per_box, offsets, strict=True)])
    ref = np.concatenate([v.reference[v.valid] for v in per_box])
    for i, label in enumerate(labels):
        est = np.concatenate([v.values[i][v.valid] for v in per_box])
        rmse = 100 * float(np.sqrt(np.mean((est - ref) ** 2)))
        gain = "-"
        if i != base:
            oi = np.concatenate([v.values[base][v.valid] for v in per_box])
            g = paired_mse_gain(ref, est, oi, groups)
            gain = f"{100 * g.gain:+.1f} % [{100 * g.low:+.1f}, {100 * g.high:+.1f}]"
        lines.append(f"| {label} | {rmse:.2f} | {gain} | {ref.size} | {np.unique(groups).size} |")
    return [*lines, ""]


def grid(folder: Path, cube: Path, box: tuple[float, ...]) -> None:
    """Grid the passes of ``folder`` over ``box`` (x0, x1, y0, y1; degrees) at 1/10 deg."""
    x0, x1, y0, y1 = (str(v) for v in box)
    oceaninterp(
        "grid",
        str(folder),
        "-o",
        str(cube),
        "-x",
        x0,
        "-X",
        x1,
        "-y",
        y0,
        "-Y",
        y1,
        "--resolution",
        "0.1",
        "--overwrite",
    )


def observed_std(cube: Path, checkpoint: Path) -> str:
    """The mapped observations' mean and std (m) beside the checkpoint's normalisation."""
    from oceaninterp.model.checkpoint import describe_checkpoint

    with xr.open_dataset(cube) as ds:
        values = ds["ssh"].values[ds["mask"].values > 0]
    norm = describe_checkpoint(checkpoint)["normalisation"]
    return (
        f"Mapped observations in the box: SLA mean {np.mean(values):.3f} m, std "
        f"{np.std(values):.3f} m ({values.size} cells); the checkpoint normalises by mean "
        f"{norm['mean']:.4f} m, std {norm['std']:.4f} m."
    )


def renormalised(checkpoint: Path, cube: Path, work: Path) -> Path:
    """The checkpoint with its SSH normalisation taken from the cube's observations."""
    from oceaninterp.model.checkpoint import load_checkpoint, save_checkpoint
    from oceaninterp.model.inference import observed_normalisation

    loaded = load_checkpoint(checkpoint)
    with xr.open_dataset(cube) as ds:
        model = observed_normalisation(loaded.model, ds["ssh"], cube)
    return save_checkpoint(work / "renormalised.pt", model, loaded.meta)


def finetune(kept: Path, work: Path, opts: argparse.Namespace) -> tuple[Path, str]:
    """Fine-tune the checkpoint on the mapped passes over ``--train-box``; the model and a note."""
    from oceaninterp.model.checkpoint import describe_checkpoint

    cube = work / "train_cube.nc"
    if not (opts.reuse and cube.is_file()):
        grid(kept, cube, opts.train_box)
    config = work / "finetune.toml"
    config.write_text(f"[train]\ntiles_per_epoch = {opts.tiles_per_epoch}\nloss_border = 4\n")
    tuned = work / f"finetuned{suffix(opts)}.pt"
    started = time.perf_counter()
    oceaninterp(
        "train",
        str(cube),
        "--self-supervised",
        "--init",
        str(opts.checkpoint),
        "-o",
        str(tuned),
        "--config",
        str(config),
        "--epochs",
        str(opts.epochs),
        "--hidden-share",
        str(opts.hidden_share),
        "--lr-scale",
        str(opts.lr_scale),
        "--max-minutes",
        str(opts.minutes),
        *(["--renormalise"] if opts.renormalise else []),
        "--device",
        "cpu",
        "--overwrite",
    )
    wall = time.perf_counter() - started
    info = describe_checkpoint(tuned)
    history = ", ".join(f"{r['epoch']}: {r['val_mu']:.3f}" for r in info["validation"]["history"])
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    note = (
        f"Fine-tuning{' ' + opts.tag if opts.tag else ''}: {info['finetuning']['cube']} "
        f"(mapped passes over {list(opts.train_box)}), {opts.epochs} epoch(s) of "
        f"{opts.tiles_per_epoch} tiles at most, hidden share {opts.hidden_share}, learning rate "
        f"x {opts.lr_scale}{', renormalised' if opts.renormalise else ''}, "
        f"{wall / 60:.1f} min wall ({platform.processor() or platform.machine()}"
        f", {os.cpu_count()} cores, OMP_NUM_THREADS={threads}); held-out mu by epoch {history}; "
        f"epoch {info['finetuning']['epoch']} kept."
    )
    return tuned, note


def _row(scores: list[dict], name: str) -> dict[str, str]:
    """mu, RMSE (cm) and lambda_x (km) of one map of ``scores.json``, as text."""
    entry = next((m for m in scores if m.get("name") == name), {})

    def text(key: str, scale: float, fmt: str) -> str:
        value = entry.get(key)
        return "-" if value is None else fmt.format(float(value) * scale)

    gain = text("mse_gain", 100.0, "{:+.1f} %")
    if entry.get("mse_gain_low") is not None:
        low, high = (text(k, 100.0, "{:+.1f}") for k in ("mse_gain_low", "mse_gain_high"))
        gain += f" [{low}, {high}]"
    return {
        "mu": text("mu", 1.0, "{:.3f}"),
        "rmse": text("rmse_m", 100.0, "{:.2f}"),
        "lx": text("lambda_x_km", 1.0, "{:.0f}"),
        "gain": gain,
    }


if __name__ == "__main__":
    main()
