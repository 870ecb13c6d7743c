"""The zonal SSH spectrum diagnostic: known slopes back, units, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from oceaninterp.spectrum import spectral_slope, ssh_slope, zonal_spectrum

DX_KM = 7.0


def _power_law_rows(rng: np.random.Generator, slope: float, rows: int, n: int) -> np.ndarray:
    """Random-phase series with PSD ~ k^slope, cut from series 4 times longer (not periodic)."""
    long = 4 * n
    k = np.fft.rfftfreq(long, d=DX_KM)
    amplitude = np.zeros_like(k)
    amplitude[1:] = k[1:] ** (slope / 2.0)
    phases = np.exp(2j * np.pi * rng.random((rows, k.size)))
    series = np.fft.irfft(amplitude * phases, n=long, axis=1)
    return series[:, n : 2 * n] + 0.01 * np.arange(n) / n  # a trend, removed by detrending


@pytest.mark.parametrize("slope", [-3.0, -4.5, -5.5])
def test_a_field_of_known_slope_gives_it_back(slope: float) -> None:
    rng = np.random.default_rng(3)
    field = _power_law_rows(rng, slope, rows=7 * 37, n=301).reshape(7, 37, 301)
    assert zonal_spectrum(field, DX_KM).slope() == pytest.approx(slope, abs=0.15)


def test_short_rows_read_steep_slopes_steeper() -> None:
    """The Hann main lobe smears the few bins of 250 km on 700 km rows (module docstring)."""
    rng = np.random.default_rng(3)
    field = _power_law_rows(rng, -5.0, rows=300, n=100)
    assert -6.0 < zonal_spectrum(field, DX_KM).slope() < -5.3


def test_parseval_and_nan_rows() -> None:
    rng = np.random.default_rng(0)
    field = rng.standard_normal((3, 5, 64)) * 0.1  # white: variance 0.01 m^2
    field[0, 0, 3] = np.nan
    spectrum = zonal_spectrum(field, DX_KM)
    assert spectrum.rows == 14  # the row with a NaN is left out
    dk = spectrum.wavenumber[0]
    assert spectrum.psd.sum() * dk == pytest.approx(0.01, rel=0.15)


def test_ssh_slope_uses_the_zonal_spacing_at_the_latitude() -> None:
    rng = np.random.default_rng(1)
    lat = np.linspace(30.0, 40.0, 11)
    dlon = DX_KM / (6371.0 * np.radians(1.0) * np.mean(np.cos(np.radians(lat))))
    field = _power_law_rows(rng, -4.0, rows=4 * 11, n=150).reshape(4, 11, 150)
    assert ssh_slope(field, lat, dlon) == pytest.approx(-4.0, abs=0.2)


def test_refusals() -> None:
    with pytest.raises(ValueError, match="8 columns"):
        zonal_spectrum(np.zeros((2, 5)), DX_KM)
    with pytest.raises(ValueError, match="NaN"):
        zonal_spectrum(np.full((2, 16), np.nan), DX_KM)
    with pytest.raises(ValueError, match="too short"):
        spectral_slope(np.array([0.001, 0.002]), np.array([1.0, 0.5]))
