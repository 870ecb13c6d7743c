"""Shared fixtures: seeded rng, device, real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

# GNU OpenMP spin-waits between parallel regions; on a loaded 2-core machine that
# makes torch up to 100x slower. Must be set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20211)


@pytest.fixture
def device() -> str:
    """``"cuda"`` when a GPU is present, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture
def real_data() -> Path:
    """The folder of real product files; skips the test when it is not set."""
    folder = os.environ.get("OCEANINTERP_REAL_DATA")
    if not folder or not Path(folder).is_dir():
        pytest.skip("OCEANINTERP_REAL_DATA is not set to the real-data folder")
    return Path(folder)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run fastest on one torch thread (and the CPU may be shared)."""
    from oceaninterp.threads import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory) -> None:
    """Land masks are cached per grid: tests start from an empty cache of their own."""
    os.environ["OCEANINTERP_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def restore_logging():
    """The CLI reconfigures the root logger (onto CliRunner's stream): undo it after a test."""
    import logging

    top = logging.getLogger()
    handlers, level = list(top.handlers), top.level
    yield
    top.handlers[:] = handlers
    top.setLevel(level)


@pytest.fixture
def one_day_sst(tmp_path: Path) -> Path:
    """``tmp_path/sst.nc``: an L4 SST file of one day (2022-03-02), 3 x 4 one-degree cells
    at 290 K near (0N, 0E)."""
    import xarray as xr

    from oceaninterp.products import sst_l4

    sst = xr.DataArray(
        np.full((1, 3, 4), 290.0),
        dims=("time", "lat", "lon"),
        coords={
            "time": [np.datetime64("2022-03-02", "ns")],
            "lat": [0.0, 1, 2],
            "lon": [0.0, 1, 2, 3],
        },
    )
    return sst_l4.write(sst, tmp_path / "sst.nc")


@pytest.fixture
def score_record():  # noqa: ANN201
    """``score_record(rmse, lambda_x, lambda_t=12.0, name="x")``: a score record as
    :func:`oceaninterp.report.score_maps` writes one (mu 0.9, sigma 0.01; metres, degrees, days).
    """

    def make(rmse: float, lambda_x: float | None, lambda_t: float | None = 12.0, name: str = "x"):
        return {
            "name": name,
            "mu": 0.9,
            "sigma": 0.01,
            "lambda_x_deg": lambda_x,
            "lambda_x_km": None,
            "lambda_t_days": lambda_t,
            "rmse_m": rmse,
        }

    return make
