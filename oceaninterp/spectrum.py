"""Zonal wavenumber spectra of gridded SSH and their slope: how rich a field is in small scales.

The diagnostic of issue 16 (Xu & Fu 2011, 2012 compute it along tracks): each
zonal row of each day is detrended (least-squares line), tapered by a Hann
window and Fourier transformed; the power spectral densities are averaged
over rows and days. Its slope over 70-250 km of wavelength is compared with
the real ocean's (about ``k^-4`` in strong currents, ``k^-5`` for QG
turbulence, ``k^-11/3`` for SQG; a DUACS L4 map, smooth by construction,
about ``k^-7``; REFERENCE.md section 9).

Two biases of the method to keep in mind when reading a slope:

- on short rows the Hann window's main lobe (three bins wide) spreads the
  large power of the lowest bins into the few bins of 150-250 km: a ``k^-5``
  field reads about -5.7 on rows of 100 points of 7 km (700 km, e.g. a 10 deg
  box at 0.1 deg), -5.3 on 1000 km rows, -5.0 on 2100 km rows;
- its side lobes leak power as ``k^-6``: much steeper spectra read too shallow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Wavelength band of the slope fit, km (Xu & Fu's mesoscale range).
SLOPE_BAND_KM = (70.0, 250.0)
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class ZonalSpectrum:
    """A mean zonal wavenumber spectrum."""

    #: Wavenumbers, cycles per km (the zero wavenumber left out).
    wavenumber: np.ndarray
    #: Power spectral density, (field unit)^2 per (cycle/km), one-sided.
    psd: np.ndarray
    #: Number of (day, row) series averaged.
    rows: int

    def slope(self, band_km: tuple[float, float] = SLOPE_BAND_KM) -> float:
        """Least-squares slope of ``log psd`` against ``log k`` over a wavelength band (km)."""
        return spectral_slope(self.wavenumber, self.psd, band_km)


def zonal_spectrum(field: np.ndarray, dx_km: float) -> ZonalSpectrum:
    """Mean zonal spectrum of a field over (..., rows, columns) with columns along x.

    Parameters
    ----------
    field
        Values over (time, latitude, longitude) or (latitude, longitude), any
        unit (metres for SSH). Rows holding a NaN (land, gaps) are left out.
    dx_km
        Spacing of the columns, km.

    Returns
    -------
    ZonalSpectrum
        One-sided PSD (Parseval: its sum times ``dk`` is the variance of the
        windowed, detrended rows, corrected for the window's power).

    Raises
    ------
    ValueError
        With fewer than 8 columns or no row free of NaN.
    """
    values = np.asarray(field, dtype=np.float64)
    n = values.shape[-1]
    if n < 8:
        raise ValueError(f"a zonal spectrum needs at least 8 columns, got {n}")
    rows = values.reshape(-1, n)
    rows = rows[np.isfinite(rows).all(axis=1)]
    if rows.shape[0] == 0:
        raise ValueError("no row free of NaN to compute a zonal spectrum")
    x = np.arange(n, dtype=np.float64) - 0.5 * (n - 1)
    mean = rows.mean(axis=1, keepdims=True)
    trend = (rows @ x / (x @ x))[:, None] * x[None, :]
    window = np.hanning(n)
    spectra = np.abs(np.fft.rfft((rows - mean - trend) * window, axis=1)) ** 2
    psd = spectra.mean(axis=0) * 2.0 * dx_km / (n * np.mean(window**2))
    k = np.fft.rfftfreq(n, d=dx_km)
    return ZonalSpectrum(wavenumber=k[1:], psd=psd[1:], rows=int(rows.shape[0]))


def spectral_slope(
    wavenumber: np.ndarray, psd: np.ndarray, band_km: tuple[float, float] = SLOPE_BAND_KM
) -> float:
    """Slope of a power law fitted (least squares in log-log) over a wavelength band.

    Parameters
    ----------
    wavenumber
        Cycles per km.
    psd
        Power spectral density at those wavenumbers.
    band_km
        (shortest, longest) wavelength of the fit, km.

    Raises
    ------
    ValueError
        When fewer than 3 wavenumbers fall in the band.
    """
    k = np.asarray(wavenumber, dtype=np.float64)
    p = np.asarray(psd, dtype=np.float64)
    inside = (k >= 1.0 / band_km[1]) & (k <= 1.0 / band_km[0]) & (p > 0)
    if inside.sum() < 3:
        raise ValueError(
            f"only {int(inside.sum())} wavenumbers between {band_km[0]:g} and "
            f"{band_km[1]:g} km: the field is too short or too coarse for a slope"
        )
    return float(np.polyfit(np.log(k[inside]), np.log(p[inside]), 1)[0])


def zonal_spacing_km(lat: np.ndarray, dlon: float) -> float:
    """Mean zonal grid spacing (km) of ``dlon`` degrees at latitudes ``lat`` (degrees)."""
    return EARTH_RADIUS_KM * math.radians(dlon) * float(np.mean(np.cos(np.radians(lat))))


def ssh_slope(ssh: np.ndarray, lat: np.ndarray, dlon: float) -> float:
    """Zonal spectral slope over 70-250 km of SSH over (time, latitude, longitude).

    ``lat`` in degrees, ``dlon`` the longitude spacing in degrees.
    """
    return zonal_spectrum(ssh, zonal_spacing_km(lat, dlon)).slope()
