"""Instrument errors of the simulated observations (REFERENCE.md section 5).

- nadir altimeters: white noise at 1 Hz, per mission (LRM about 2 cm, SAR
  1.3 cm, AltiKa 1.2 cm);
- SWOT KaRIn: random noise per 2 x 2 km pixel whose standard deviation
  depends on the cross-track distance (values at 2 m significant wave height);
- KaRIn systematic errors left after cross-calibration (on by default in
  ``simulate obs``), each a red noise along track times a cross-track shape:
  roll (``h = (1 + H/Re) theta x_ac``, a linear ramp through nadir across the
  whole swath), phase (a linear ramp per side), baseline dilation (quadratic)
  and timing (a constant per side);
- the MDT handed to the users: a Gaussian-correlated error field;
- the low-passes that make the ``*_filtered`` variables from noisy ones.

All values are metres; distances kilometres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: White-noise standard deviation of 1-Hz nadir sea level, metres.
NADIR_NOISE: dict[str, float] = {
    "j3": 0.020,
    "h2b": 0.020,
    "s3a": 0.013,
    "s3b": 0.013,
    "c2": 0.013,
    "alg": 0.012,
}

#: KaRIn random noise per 2 km pixel at 2 m wave height: cross-track distance (km) -> std (m).
KARIN_NOISE_DISTANCE = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
KARIN_NOISE_STD = np.array([0.0148, 0.0101, 0.0089, 0.0094, 0.0123, 0.0230])


def karin_noise_std(cross_track_km: np.ndarray, pixel_km: float = 2.0) -> np.ndarray:
    """KaRIn pixel noise standard deviation (m) at signed cross-track distances (km).

    Linear between the tabulated distances; NaN outside the 10-60 km swath.
    For pixels coarser than the native 2 km, the noise of the average of
    ``(pixel_km / 2)^2`` native pixels: divided by ``pixel_km / 2``.
    """
    x = np.abs(np.asarray(cross_track_km, dtype=np.float64))
    std = np.interp(x, KARIN_NOISE_DISTANCE, KARIN_NOISE_STD) * (2.0 / pixel_km)
    return np.where((x >= KARIN_NOISE_DISTANCE[0]) & (x <= KARIN_NOISE_DISTANCE[-1]), std, np.nan)


def nadir_noise(rng: np.random.Generator, size: int, mission: str) -> np.ndarray:
    """White noise (m) for ``size`` 1-Hz points of ``mission``."""
    return rng.normal(0.0, NADIR_NOISE[mission], size)


def karin_noise(
    rng: np.random.Generator, num_lines: int, cross_track_km: np.ndarray, pixel_km: float = 2.0
) -> np.ndarray:
    """KaRIn random noise (m), shape ``(num_lines, num_pixels)``; NaN off-swath."""
    std = karin_noise_std(cross_track_km, pixel_km)
    return rng.standard_normal((num_lines, std.size)) * std


@dataclass(frozen=True)
class SystematicErrors:
    """Amplitudes of the KaRIn systematic errors (metres) and their along-track scale.

    The defaults are residuals after the data-driven cross-calibration of the
    L3 products (Dibarboure et al. 2022, Remote Sens. 14, 6070: tens of cm
    before calibration, "a few cm" after, REFERENCE.md section 5): at the
    swath edge (60 km) 1.5 cm of roll, 1 cm of phase per side, 1 cm of
    baseline dilation, 0.5 cm of timing, all with a 1000 km Gaussian
    along-track correlation (long-wave residuals; the calibration removes the
    scales it sees at crossovers). Their sum is about 1.5 cm RMS over the
    KaRIn pixels, close to the random noise of a 2 km pixel (1.2 cm on average).

    Attributes
    ----------
    roll
        Standard deviation of the roll error at 60 km cross-track (a ramp
        through nadir, antisymmetric across the swath).
    phase
        Standard deviation of the phase error at 60 km (an independent ramp per side).
    dilation
        Standard deviation of the baseline-dilation error at 60 km (quadratic).
    timing
        Standard deviation of the timing error (a constant per side).
    correlation_km
        Along-track correlation length (Gaussian) of every component, km.
    """

    roll: float = 0.015
    phase: float = 0.010
    dilation: float = 0.010
    timing: float = 0.005
    correlation_km: float = 1000.0


def red_noise(
    rng: np.random.Generator, size: int, spacing_km: float, correlation_km: float, std: float
) -> np.ndarray:
    """Gaussian-correlated noise of standard deviation ``std`` along ``size`` samples.

    White noise smoothed by a Gaussian kernel of ``correlation_km`` (standard
    deviation, km) and rescaled by the kernel's theoretical variance, so that
    the process has standard deviation ``std``.
    """
    from scipy.ndimage import gaussian_filter1d

    sigma = correlation_km / spacing_km
    pad = int(4 * sigma) + 1
    white = rng.standard_normal(size + 2 * pad)
    smooth = gaussian_filter1d(white, sigma, mode="constant")[pad : pad + size]
    return smooth * std * math.sqrt(2.0 * math.sqrt(math.pi) * sigma)


def systematic_errors(
    rng: np.random.Generator,
    num_lines: int,
    cross_track_km: np.ndarray,
    spacing_km: float,
    amplitudes: SystematicErrors,
) -> np.ndarray:
    """KaRIn systematic errors (m), shape ``(num_lines, num_pixels)``.

    Parameters
    ----------
    rng
        Random generator.
    num_lines
        Lines along track.
    cross_track_km
        Signed cross-track distance of each pixel, km (positive right of track).
    spacing_km
        Along-track line spacing, km.
    amplitudes
        Error amplitudes.
    """
    a = amplitudes
    x = np.asarray(cross_track_km, dtype=np.float64) / 60.0
    right = (x > 0).astype(np.float64)
    left = 1.0 - right

    def series(std: float) -> np.ndarray:
        return red_noise(rng, num_lines, spacing_km, a.correlation_km, std)[:, None]

    roll = series(a.roll) * x
    phase = series(a.phase) * x * right + series(a.phase) * x * left
    dilation = series(a.dilation) * x**2
    timing = series(a.timing) * right + series(a.timing) * left
    return roll + phase + dilation + timing


def along_track_lowpass(
    values: np.ndarray, segment: np.ndarray, sigma_samples: float
) -> np.ndarray:
    """Gaussian low-pass of ``values`` along each contiguous ``segment`` (labels).

    Used to make the ``*_filtered`` variables from noisy ones: a Gaussian of
    ``sigma_samples`` samples; each segment is filtered on its own, with its
    ends reflected.
    """
    from scipy.ndimage import gaussian_filter1d

    out = np.empty_like(values, dtype=np.float64)
    bounds = np.flatnonzero(np.diff(segment)) + 1
    for part in np.split(np.arange(values.size), bounds):
        if part.size:
            out[part] = gaussian_filter1d(
                values[part].astype(np.float64), sigma_samples, mode="reflect"
            )
    return out


def swath_lowpass(
    values: np.ndarray, valid: np.ndarray, xtd: np.ndarray, sigma: float
) -> np.ndarray:
    """NaN-aware Gaussian low-pass (``sigma`` pixels) of a swath over (lines, pixels), per side.

    Used to make the KaRIn ``*_filtered`` variables: ``valid`` marks the
    pixels that count, ``xtd`` (per pixel) gives the side of the swath by its
    sign; each side is filtered on its own.
    """
    from scipy.ndimage import gaussian_filter

    out = np.full(values.shape, np.nan)
    for side in (xtd < 0, xtd > 0):
        v = np.where(valid[:, side], values[:, side], 0.0)
        w = valid[:, side].astype(np.float64)
        num = gaussian_filter(v, sigma, mode="constant")
        den = gaussian_filter(w, sigma, mode="constant")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, side] = np.where(w > 0, num / den, np.nan)
    return out


def mdt_error(
    rng: np.random.Generator,
    lat: np.ndarray,
    lon: np.ndarray,
    sea: np.ndarray,
    std: float,
    scale_km: float,
) -> np.ndarray:
    """A Gaussian-correlated error field of an MDT, metres, on a regular grid.

    White noise smoothed by a Gaussian of ``scale_km`` (standard deviation of
    the kernel, km; periodic padding), then centred and scaled to ``std``
    metres over the ``sea`` cells (boolean ``(lat, lon)``). ``lat``, ``lon``:
    the grid's ascending degrees.
    """
    from scipy.ndimage import gaussian_filter

    from oceaninterp.spectrum import EARTH_RADIUS_KM

    dy_km = EARTH_RADIUS_KM * np.radians(float(np.median(np.diff(lat))))
    dx_km = (
        dy_km
        * float(np.cos(np.radians(np.mean(lat))))
        * float(np.median(np.diff(lon)) / np.median(np.diff(lat)))
    )
    pad = int(4 * scale_km / min(dx_km, dy_km)) + 1
    white = rng.standard_normal((lat.size + 2 * pad, lon.size + 2 * pad))
    field = gaussian_filter(white, (scale_km / dy_km, scale_km / dx_km), mode="wrap")
    field = field[pad:-pad, pad:-pad]
    field = field - field[sea].mean()
    return field * (std / field[sea].std())
