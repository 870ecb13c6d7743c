"""The figures of a score report (matplotlib, Agg; loaded only when drawing).

Each ``plot_*`` function draws on a given figure; :func:`save_figure` makes
the figure and writes it as a PNG, atomically. The scores come from
:mod:`oceaninterp.scores`, the report itself from :mod:`oceaninterp.report`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp import scores
from oceaninterp.io import atomic_path

#: Axis label of the spectral scores (dimensionless; 1 is perfect).
SCORE_LABEL = "score 1 - PSD_err / PSD_ref (1 = perfect)"


def save_figure(path: Path, draw) -> None:
    """Write the figure that ``draw(fig)`` makes to ``path`` (PNG, atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 4.5), layout="constrained")
    try:
        draw(fig)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)


def _geographic(ax, latitude: np.ndarray) -> None:
    """Longitude/latitude labels in degrees and a 1 km = 1 km aspect at the mean latitude."""
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.set_aspect(1.0 / max(np.cos(np.deg2rad(float(np.nanmean(latitude)))), 0.05))


def _legend_below(fig, axes) -> None:
    """One legend for the figure, under the panels (never over a curve)."""
    handles, names = [], []
    for ax in np.ravel(axes):
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    if handles:
        fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 4), fontsize=8)


def _field(ax, field: xr.DataArray, **style):  # noqa: ANN202 (a matplotlib image)
    """``field`` (latitude, longitude) drawn on its cell edges, in geographic axes."""
    lon, lat = field["longitude"].values, field["latitude"].values
    image = ax.pcolormesh(lon, lat, field.values, shading="nearest", **style)
    _geographic(ax, lat)
    return image


def _points(ax, points: tuple[np.ndarray, np.ndarray] | None) -> None:
    """The observations of the day (longitudes, latitudes, degrees) as black dots."""
    if points is not None and points[0].size:
        ax.plot(*points, "k.", ms=1.5, label="observations of the day")


def plot_snapshots(
    fig,
    truth: xr.DataArray,
    maps: list[xr.DataArray],
    labels: list[str],
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Truth and each map on one day (top), each error and their histograms (bottom).

    ``points`` (longitudes, latitudes, degrees) are the observations of the day,
    drawn as dots on the top row.
    """
    n = len(maps) + 1
    fig.set_size_inches(3.8 * n, 7.0)
    axes = fig.subplots(2, n, squeeze=False)
    vmin, vmax = float(truth.min()), float(truth.max())
    errors = [m - truth for m in maps]
    emax = max(float(np.nanmax(np.abs(e))) for e in errors) or 1.0
    day = str(truth["time"].values)[:10]
    for col, (field, title) in enumerate([(truth, "truth"), *zip(maps, labels, strict=True)]):
        ax = axes[0, col]
        image = _field(ax, field, vmin=vmin, vmax=vmax, cmap="viridis")
        _points(ax, points)
        ax.set_title(f"{title}, {day}", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8, label="SSH (m)")
    ax = axes[1, 0]
    bins = np.linspace(-emax, emax, 41)
    for k, (error, label) in enumerate(zip(errors, labels, strict=True)):
        values = error.values[np.isfinite(error.values)]
        ax.hist(values, bins=bins, histtype="step", color=f"C{k}", label=f"{label} - truth")
        image = _field(axes[1, k + 1], error, vmin=-emax, vmax=emax, cmap="RdBu_r")
        axes[1, k + 1].set_title(f"{label} - truth, {day}", fontsize=9)
        fig.colorbar(image, ax=axes[1, k + 1], shrink=0.8, label="SSH error (m)")
    ax.set_xlabel("SSH error, map - truth (m)")
    ax.set_ylabel("grid cells (count)")
    ax.set_title(f"errors of the day, {day}", fontsize=9)
    _legend_below(fig, axes)


def plot_track_snapshots(
    fig,
    maps: list[xr.DataArray],
    labels: list[str],
    kind: str,
    points: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Each map on one day with the withheld track points of that day on top.

    ``points`` are longitudes, latitudes (degrees) and values (metres), drawn
    in the maps' colours with a black edge: a good map hides its tracks.
    """
    n = len(maps)
    fig.set_size_inches(4.2 * n, 4.2)
    axes = fig.subplots(1, n, squeeze=False)[0]
    lon, lat, value = points
    finite = [m.values[np.isfinite(m.values)] for m in maps]
    vmin = float(min([np.min(f) for f in finite if f.size] + [np.min(value)]))
    vmax = float(max([np.max(f) for f in finite if f.size] + [np.max(value)]))
    day = str(maps[0]["time"].values)[:10]
    for ax, field, label in zip(axes, maps, labels, strict=True):
        image = _field(ax, field, vmin=vmin, vmax=vmax, cmap="viridis")
        ax.scatter(
            lon,
            lat,
            c=value,
            s=6,
            vmin=vmin,
            vmax=vmax,
            cmap="viridis",
            edgecolors="k",
            linewidths=0.2,
            label="withheld track points of the day",
        )
        ax.set_title(f"{label}, {day}", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8, label=f"{kind.upper()} (m)")
    _legend_below(fig, axes)


def plot_spectral(fig, results: list[scores.SpectralScores], labels: list[str]) -> None:
    """Marginal score curves with their 0.5 crossings, and the 0.5 contours with
    lambda_x and lambda_t marked at the contour vertices they come from."""
    from matplotlib.ticker import NullFormatter

    fig.set_size_inches(13, 5)
    ax_x, ax_t, ax_c = fig.subplots(1, 3)
    for k, (s, label) in enumerate(zip(results, labels, strict=True)):
        color = f"C{k}"
        ax_x.semilogx(s.score_x["wavelength"], s.score_x, color=color, label=label)
        ax_t.semilogx(s.score_t["period"], s.score_t, color=color)
        for ax, curve, coord in ((ax_x, s.score_x, "wavelength"), (ax_t, s.score_t, "period")):
            hits = scores.crossing(curve[coord].values, curve.values)
            ax.plot(hits, np.full(hits.size, scores.LEVEL), "o", color=color, ms=5)
        ax_c.contour(
            s.score["wavelength"], s.score["period"], s.score, levels=[scores.LEVEL], colors=color
        )
        x, t = scores.contour_vertices(
            s.score["period"].values, s.score["wavelength"].values, s.score.values
        )
        if x.size:
            for at, marker, text in (
                (int(np.argmin(x)), "<", f"lambda_x {s.lambda_x_deg:.2f} deg"),
                (int(np.argmin(t)), "v", f"lambda_t {s.lambda_t_days:.1f} days"),
            ):
                ax_c.plot(
                    x[at],
                    t[at],
                    marker,
                    color=color,
                    ms=7,
                    mec="k",
                    clip_on=False,
                    label=f"{label}: {text}",
                )
    for ax in (ax_x, ax_t):
        ax.axhline(scores.LEVEL, color="k", lw=0.8)
        ax.set_ylim(-0.1, 1.05)
        ax.set_ylabel(SCORE_LABEL)
    ax_x.set_xlabel("wavelength (degrees of longitude)")
    ax_x.set_title("score over wavelength; dots: 0.5 crossings", fontsize=9)
    ax_t.set_xlabel("period (days)")
    ax_t.set_title("score over period; dots: 0.5 crossings", fontsize=9)
    ax_c.set_xscale("log")
    ax_c.set_yscale("log")
    ax_c.set_xlabel("wavelength (degrees of longitude)")
    ax_c.set_ylabel("period (days)")
    ax_c.set_title("0.5 contour of the (wavelength, period) score", fontsize=9)
    for axis in (ax_x.xaxis, ax_t.xaxis, ax_c.xaxis, ax_c.yaxis):
        axis.set_minor_formatter(NullFormatter())  # labelled minor ticks overlap on log axes
    _legend_below(fig, (ax_x, ax_c))


def plot_alongtrack_spectra(fig, results: list[scores.AlongTrackScores], labels: list[str]) -> None:
    """The along-track score over wavelength per map, with its 0.5 crossing (lambda_x)."""
    ax = fig.subplots(1, 1)
    for k, (a, label) in enumerate(zip(results, labels, strict=True)):
        if not a.n_segments:
            continue
        ax.semilogx(
            a.score["wavelength"], a.score, color=f"C{k}", label=f"{label}: {a.lambda_x_km:.0f} km"
        )
        ax.plot(a.lambda_x_km, scores.LEVEL, "o", color=f"C{k}", ms=5)
    ax.axhline(scores.LEVEL, color="k", lw=0.8)
    ax.set_ylim(-0.1, 1.05)
    ax.set_xlabel("along-track wavelength (km)")
    ax.set_ylabel(SCORE_LABEL)
    ax.set_title("along-track spectral score; dots: 0.5 crossings (lambda_x)", fontsize=9)
    _legend_below(fig, ax)


def plot_daily(fig, series: list[xr.DataArray], labels: list[str]) -> None:
    """The daily score ``1 - RMSE_t / RMS_t`` of each map over time."""
    ax = fig.subplots(1, 1)
    for k, (daily, label) in enumerate(zip(series, labels, strict=True)):
        ax.plot(
            daily["time"].values,
            daily.values,
            color=f"C{k}",
            marker=".",
            label=f"{label} (mean {float(daily.mean()):.3f})",
        )
    ax.set_xlabel("day (UTC)")
    ax.set_ylabel("daily score 1 - RMSE_t / RMS_t (1 = perfect)")
    ax.set_title("daily score", fontsize=9)
    _legend_below(fig, ax)
    fig.autofmt_xdate()
