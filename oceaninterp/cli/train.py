"""`oceaninterp train`: fit the SSH 4DVarNet on gridded cubes and their truths,
or fine-tune a trained one on observations alone (``--self-supervised``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from oceaninterp.cli.common import (
    LogLevel,
    Overwrite,
    console,
    flag,
    progress,
    setup_logging,
    user_errors,
)


def train(
    cube: list[Path] = typer.Argument(  # noqa: B008
        ...,
        help="Gridded observations (output of `oceaninterp grid`); several cubes (regions) "
        "of one resolution train one model.",
    ),
    truth: list[Path] | None = typer.Option(  # noqa: B008
        None,
        "--truth",
        help="True SSH (`oceaninterp simulate truth`, or any gridded adt/sla/ssh/zos/sossheig "
        "in metres); one per cube, in order. Not with --self-supervised.",
    ),
    output: Path = typer.Option(  # noqa: B008
        ..., "-o", "--output", help="Checkpoint to write (e.g. model.pt)."
    ),
    epochs: int | None = typer.Option(  # noqa: B008
        None, "--epochs", help="Epochs (default: config, 30; 5 with --self-supervised)."
    ),
    batch_size: int | None = typer.Option(  # noqa: B008
        None, "--batch-size", help="Tiles per optimiser step (default: config, 4)."
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    resume: Annotated[
        bool, flag("--resume", "Continue an interrupted run from CHECKPOINT.resume.")
    ] = False,
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
    self_supervised: Annotated[
        bool,
        flag(
            "--self-supervised",
            "Fine-tune the --init checkpoint on CUBE's observations alone (no truth): "
            "hide track segments, map from the rest, learn from the misfit plus the prior.",
        ),
    ] = False,
    init: Path | None = typer.Option(  # noqa: B008
        None,
        "--init",
        help="The checkpoint to start from: with --truth its weights, architecture and "
        "normalisation start the training (transfer); with --self-supervised, the model tuned.",
    ),
    hidden_share: float = typer.Option(  # noqa: B008
        0.25, "--hidden-share", help="With --self-supervised: share of segments hidden a step."
    ),
    lr_scale: float = typer.Option(  # noqa: B008
        0.1, "--lr-scale", help="With --self-supervised: factor on the config's learning rates."
    ),
    renormalise: Annotated[
        bool,
        flag("--renormalise", "With --self-supervised: the cube's SSH mean and std, not CKPT's."),
    ] = False,
    max_minutes: float | None = typer.Option(  # noqa: B008
        None,
        "--max-minutes",
        help="With --self-supervised: start no epoch that would end past this wall time.",
    ),
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Train a 4DVarNet on CUBE against TRUTH; keep the best model (validation mu) in -o.

    Prints the training loss and validation mu (1 - RMSE/RMS(truth)) of each
    epoch. An interrupted run continues with the same command plus --resume.
    With --mdt the model maps the SLA and the checkpoint records the MDT.
    Several cubes (each with its --truth, and --mdt when given) train one
    model on all their regions; the checkpoint records the latitudes they span.

    With --self-supervised --init CKPT (one cube, no truth) the model of CKPT
    is fine-tuned on the cube's observations; validation scores the maps on
    track segments held out of training (mu and RMSE on them).
    """
    setup_logging(log_level)
    with user_errors():
        import dataclasses

        from oceaninterp.config import ModelConfig, TrainConfig, read_train_config
        from oceaninterp.errors import ConfigError

        model_cfg, train_cfg = (
            read_train_config(config) if config else (ModelConfig(), TrainConfig())
        )
        if self_supervised and epochs is None and config is None:
            from oceaninterp.finetune import DEFAULT_EPOCHS

            epochs = DEFAULT_EPOCHS
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

            if self_supervised:
                from oceaninterp.finetune import FinetuneSettings, finetune

                if init is None or truth or resume or len(cube) != 1 or (mdt and len(mdt) > 1):
                    raise ConfigError(
                        "--self-supervised takes one cube and --init CHECKPOINT (at most one "
                        "--mdt), without --truth or --resume"
                    )
                settings = FinetuneSettings(
                    hidden_share=hidden_share,
                    lr_scale=lr_scale,
                    renormalise=renormalise,
                    max_seconds=None if max_minutes is None else 60.0 * max_minutes,
                )
                tuned = finetune(
                    cube[0],
                    init,
                    output,
                    train_cfg,
                    settings,
                    device=device,
                    overwrite=overwrite,
                    mdt=mdt[0] if mdt else None,
                    on_step=on_step,
                    on_epoch=on_epoch,
                )
                first, best = tuned.history[0], tuned.best
                console.print(
                    f"[green]fine-tuned[/] {tuned.checkpoint} on {tuned.device}: held-out "
                    f"({tuned.held_cells} cells) mu {first.val_mu:.4f} -> {best.val_mu:.4f}, "
                    f"RMSE {first.val_rmse_m * 100:.2f} -> {best.val_rmse_m * 100:.2f} cm "
                    f"(epoch {tuned.best_epoch}/{len(tuned.history) - 1}), {tuned.wall_s:.0f} s",
                    highlight=False,
                )
                return
            if not truth:
                raise ConfigError("train: give --truth (one per cube), or --self-supervised --init")
            from oceaninterp.train import train as run_training

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
                init=init,
            )
        console.print(
            f"[green]trained[/] {result.checkpoint} on {result.device}: best epoch "
            f"{result.best_epoch}/{len(result.history)}, validation mu {result.best_val_mu:.4f}, "
            f"RMSE {result.best_val_rmse_m * 100:.2f} cm, {result.n_parameters} parameters, "
            f"{result.wall_s:.0f} s; periods {result.periods}",
            highlight=False,
        )
