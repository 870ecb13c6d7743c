"""Sea surface temperature of the OSSE: the reference profile and the L4-like analysis.

In the QG truth the SST is a tracer advected by the upper-layer geostrophic
flow and relaxed toward :func:`sst_reference`, so its fronts follow the jet
and the rings. The simulated "observation" of it is a GHRSST-L4-like daily
analysis: the truth smoothed (an L4 analysis does not resolve the smallest
scales) plus a spatially correlated analysis error.
"""

from __future__ import annotations

import numpy as np


def sst_reference(
    y: np.ndarray,
    length: float,
    jet_profile: np.ndarray,
    mean: float,
    front: float,
    gradient: float,
) -> np.ndarray:
    """Reference SST (kelvin) across a periodic domain.

    Parameters
    ----------
    y
        Meridional position from the southern edge, metres.
    length
        Domain side, metres.
    jet_profile
        The jet's cross-stream shape at ``y``: -1 south of the eastward jet
        (warm side), +1 north of it (cold side), smooth across it.
    mean, front, gradient
        Mean temperature (K), the step across the jet (K) and the amplitude of
        a broad periodic meridional gradient (K, peak to peak).
    """
    broad = np.sin(2 * np.pi * (y - length / 4) / length)
    return mean - 0.5 * front * jet_profile - 0.5 * gradient * broad


def l4_analysis(
    rng: np.random.Generator,
    sst: np.ndarray,
    *,
    smoothing_cells: float = 1.0,
    error_std: float = 0.2,
    error_cells: float = 3.0,
) -> np.ndarray:
    """A GHRSST-L4-like analysis of one day of SST truth.

    Parameters
    ----------
    rng
        Random generator.
    sst
        Truth SST (latitude, longitude), kelvin; NaN on land.
    smoothing_cells
        Gaussian smoothing of the truth (standard deviation, grid cells).
    error_std, error_cells
        Standard deviation (K) and correlation scale (grid cells) of the added
        analysis error; ``error_std = 0`` adds none.
    """
    from scipy.ndimage import gaussian_filter

    field = np.asarray(sst, dtype=np.float64)
    land = ~np.isfinite(field)
    filled = np.where(land, np.nanmean(field), field)
    out = gaussian_filter(filled, smoothing_cells, mode="nearest") if smoothing_cells else filled
    if error_std:
        noise = gaussian_filter(rng.standard_normal(field.shape), error_cells, mode="wrap")
        out = out + noise * (error_std / noise.std())
    out[land] = np.nan
    return out
