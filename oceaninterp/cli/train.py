"""`oceaninterp train`: fit the SSH 4DVarNet on gridded cubes and their truths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from oceaninterp.cli.common import LOG_LEVELS, console, progress, setup_logging, user_errors


def train(
    cube: list[Path] = typer.Argument(  # noqa: B008
        ...,
        help="Gridded observations (output of `oceaninterp grid`); several cubes (regions) "
        "of one resolution train one model.",
    ),
    truth: list[Path] = typer.Option(  # noqa: B008
        ...,
        "--truth",
        help="True SSH (`oceaninterp simulate truth`, or any gridded adt/sla/ssh/zos/sossheig "
        "in metres); one per cube, in order.",
    ),
    output: Path = typer.Option(  # noqa: B008
        ..., "-o", "--output", help="Checkpoint to write (e.g. model.pt)."
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Epochs (default: config, 30)."),
    batch_size: int | None = typer.Option(  # noqa: B008
        None, "--batch-size", help="Tiles per optimiser step (default: config, 4)."
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    resume: bool = typer.Option(  # noqa: B008
        False, "--resume", help="Continue an interrupted run from CHECKPOINT.resume."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (default: config, 0)."),
    config: Path | None = typer.Option(  # noqa: B008
        None, "--config", help="TOML file with \\[model] and \\[train] tables."
    ),
    mdt: list[Path] | None = typer.Option(  # noqa: B008
        None,
        "--mdt",
        help="Mean dynamic topography file (variable mdt, m): learn the SLA (truth - MDT, "
        "ADT cube - MDT), as DUACS; reconstruct then needs --mdt too. One per cube, in order.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing checkpoint."),
    log_level: str = typer.Option("info", "--log-level", help=f"One of {', '.join(LOG_LEVELS)}."),
) -> None:
    """Train a 4DVarNet on CUBE against TRUTH; keep the best model (validation mu) in -o.

    Prints the training loss and validation mu (1 - RMSE/RMS(truth)) of each
    epoch. An interrupted run continues with the same command plus --resume.
    With --mdt the model maps the SLA and the checkpoint records the MDT.
    Several cubes (each with its --truth, and --mdt when given) train one
    model on all their regions; the checkpoint records the latitudes they span.
    """
    setup_logging(log_level)
    with user_errors():
        import dataclasses

        from oceaninterp.config import ModelConfig, TrainConfig, read_train_config
        from oceaninterp.errors import ConfigError
        from oceaninterp.train import train as run_training

        model_cfg, train_cfg = (
            read_train_config(config) if config else (ModelConfig(), TrainConfig())
        )
        overrides: dict[str, Any] = {"epochs": epochs, "batch_size": batch_size, "seed": seed}
        try:
            train_cfg = dataclasses.replace(
                train_cfg, **{k: v for k, v in overrides.items() if v is not None}
            )
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc
        with progress("training") as bar:
            task = bar.add_task("training", total=None)

            def on_step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            def on_epoch(record) -> None:
                bar.update(
                    task,
                    description=f"epoch {record.epoch}: loss {record.train_loss:.4g}, "
                    f"val mu {record.val_mu:.3f}",
                )

            result = run_training(
                cube,
                truth,
                output,
                train_cfg,
                model_cfg,
                device=device,
                resume=resume,
                overwrite=overwrite,
                on_step=on_step,
                on_epoch=on_epoch,
                mdt=mdt or None,
            )
        console.print(
            f"[green]trained[/] {result.checkpoint} on {result.device}: best epoch "
            f"{result.best_epoch}/{len(result.history)}, validation mu {result.best_val_mu:.4f}, "
            f"RMSE {result.best_val_rmse_m * 100:.2f} cm, {result.n_parameters} parameters, "
            f"{result.wall_s:.0f} s; periods {result.periods}",
            highlight=False,
        )
