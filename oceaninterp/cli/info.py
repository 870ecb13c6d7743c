"""`oceaninterp info FILE`: what a file is (product, cube, maps, checkpoint)."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePath
from typing import Any

import typer

from oceaninterp.cli.common import console, user_errors

#: Keys of a checkpoint description already told by :func:`checkpoint_summary`.
_SUMMARISED = (
    "kind",
    "resolution",
    "ssh_kind",
    "tile",
    "uses_sst",
    "requires",
    "latitudes",
    "parameters",
)


def info(
    path: Path = typer.Argument(..., metavar="FILE", help="Any file oceaninterp reads or writes."),  # noqa: B008
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Everything the file describes (for a checkpoint: configuration and the "
        "training history, epoch by epoch).",
    ),
) -> None:
    """Describe FILE: product kind, mission, variables, time span, size or grid shape.

    A checkpoint gets a short summary first (architecture, parameters, tile,
    resolution, variable mapped, what it needs, validation scores); --verbose
    adds its full description.
    """
    with user_errors():
        from rich.table import Table

        from oceaninterp.products import describe

        description = describe(path)
    rows: list[tuple[str, Any]]
    history: list[dict[str, Any]] = []
    if description.get("kind") == "model checkpoint":
        rows = list(checkpoint_summary(description).items())
        if verbose:
            validation = dict(description.get("validation", {}))
            history = validation.pop("history", [])
            rows += [
                (f"{k} (all)" if k == "validation" else k, validation if k == "validation" else v)
                for k, v in description.items()
                if k not in _SUMMARISED
            ]
        else:
            rows.append(("more", "--verbose: configuration, normalisation, training history"))
    else:
        rows = list(description.items())
    table = Table(title=str(path), title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows:
        value = without_paths(value)
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        table.add_row(str(key), text)
    console.print(table)
    if history:
        console.print(_history_table(history))


def _history_table(history: list[dict[str, Any]]):  # noqa: ANN202 (rich is imported lazily)
    """Epoch, training loss and validation mu of each epoch, as a rich table."""
    from rich.table import Table

    table = Table(title="training history", title_justify="left")
    for name in ("epoch", "train loss", "val mu"):
        table.add_column(name, justify="right")
    for record in history:
        mu = record.get("val_mu")
        table.add_row(
            str(record.get("epoch", "?")),
            f"{record.get('train_loss', float('nan')):.4g}",
            "-" if mu is None else f"{mu:.4f}",
        )
    return table


def without_paths(value: Any) -> Any:
    """``value`` with every absolute path reduced to its file name (recursively).

    A checkpoint travels between machines: the folders of the one it was
    trained on mean nothing elsewhere and need not be shown.
    """
    if isinstance(value, str) and os.path.isabs(value) and len(PurePath(value).parts) > 1:
        return PurePath(value).name
    if isinstance(value, dict):
        return {k: without_paths(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_paths(v) for v in value]
    return value


def _dates(span: Any) -> str:
    """``[first, last]`` ISO dates as ``first..last``."""
    return "..".join(map(str, span)) if isinstance(span, list | tuple) and span else "?"


def checkpoint_summary(description: dict[str, Any]) -> dict[str, str]:
    """The lines a user reads first about a checkpoint, in order.

    Parameters
    ----------
    description
        As returned by :func:`oceaninterp.model.checkpoint.describe_checkpoint`.

    Returns
    -------
    dict
        ``architecture``, ``parameters``, ``tile`` (days x cells, and degrees),
        ``resolution`` (degrees), ``variable`` (what the maps hold), ``needs``
        (inputs besides the cube), ``latitudes`` (the bands it may be applied
        at, degrees_north), ``validation`` (mu, RMSE in cm, period),
        ``trained on`` (file names, dates, epochs).
    """
    cfg = description.get("model_config", {})
    tile = description.get("tile", {})
    res = float(description.get("resolution", 0.0))
    training = description.get("training", {})
    validation = description.get("validation", {})
    kind = str(description.get("ssh_kind", "?"))
    mdt = description.get("mdt")
    architecture = (
        f"4DVarNet: bilinear auto-encoder prior ({cfg.get('prior_width', '?')} channels), "
        f"ConvLSTM gradient solver ({cfg.get('lstm_hidden', '?')} channels, "
        f"{cfg.get('n_step', '?')} steps), first guess {cfg.get('first_guess', '?')}"
        + (", the OI map of its observations as a second input" if cfg.get("oi_input") else "")
    )
    height, width = tile.get("latitude", 0), tile.get("longitude", 0)
    needs = ["a cube gridded at this resolution (oceaninterp grid, or reconstruct --resample)"]
    if description.get("uses_sst"):
        needs.append("its sst variable (grid --sst)")
    needs.append(str(description.get("requires", "")))
    bands = description.get("latitudes")
    if validation.get("mu") is None:
        scores = validation.get("note", "no validation score")
    else:
        rmse = validation.get("rmse_m")
        scores = (
            f"mu {validation['mu']:.4f}, RMSE "
            + ("-" if rmse is None else f"{rmse * 100:.2f} cm")
            + f" on {validation.get('tiles', '?')} tiles of {_dates(training.get('val_dates'))}"
        )
    config = training.get("config", {})
    return {
        "kind": f"model checkpoint (oceaninterp {description.get('oceaninterp_version', '?')})",
        "architecture": architecture,
        "parameters": f"{int(description.get('parameters', 0)):,}",
        "tile": (
            f"{tile.get('time', '?')} days x {height} x {width} cells "
            f"({height * res:.1f} x {width * res:.1f} deg)"
        ),
        "resolution": f"{res:g} deg",
        "variable": (
            f"{kind} (maps sla; with --mdt also adt = sla + mdt)"
            if mdt
            else f"{kind} (maps the cube's {kind})"
        ),
        "needs": "; ".join(n for n in needs if n),
        "latitudes": (
            "unknown: applied anywhere"
            if bands is None
            else ", ".join(f"{south:g} .. {north:g} N" for south, north in bands)
            + " (elsewhere: reconstruct --outside oi|refuse|apply)"
        ),
        "validation": scores,
        "trained on": (
            f"{PurePath(str(training.get('cube', '?'))).name} against "
            f"{PurePath(str(training.get('truth', '?'))).name}, "
            f"train {_dates(training.get('train_dates'))}, "
            f"best epoch {validation.get('epoch', '?')} of {config.get('epochs', '?')}"
            + (f", starting from {training['init']}" if training.get("init") else "")
        ),
    }
