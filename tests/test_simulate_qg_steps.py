"""The QG model's time step: more steps on a fast day, a clear error when it blows up."""

from __future__ import annotations

import numpy as np
import pytest

from oceaninterp.simulate.qg import QGBlowUpError, QGParameters, TwoLayerQG, physics_parameters
from oceaninterp.threads import torch_threads


def _model(max_cfl: float | None = 0.3) -> TwoLayerQG:
    return TwoLayerQG(QGParameters(n=32, length=1.0e6, max_cfl=max_cfl), seed=0)


def test_a_slow_day_keeps_the_parameters_steps() -> None:
    model = _model()
    base = model.p.steps_per_day()
    with torch_threads(1):
        next(model.run_days(1))
    assert model.dt == pytest.approx(86400.0 / base)


def test_a_fast_day_is_cut_into_more_steps_within_the_cfl() -> None:
    model = _model()
    model.qh = model.qh * 20.0  # 20 times the speeds: beyond the parameters' step
    fast = model.max_speed()
    base = model.p.steps_per_day()
    steps = model._steps_today()
    assert steps > base
    assert fast * model.dt / model.p.dx <= 0.3 + 1e-12
    assert model._history == []  # Adams-Bashforth restarted with the new step


def test_v1_keeps_its_steps_and_v2_cuts_fast_days() -> None:
    # v1 reproduces sample_data/truth.nc step for step: its days are never cut
    assert physics_parameters("v1", 37.0).max_cfl is None
    assert physics_parameters("v2", 37.0).max_cfl == 0.3
    model = _model(max_cfl=None)
    model.qh = model.qh * 20.0
    assert model._steps_today() == model.p.steps_per_day()


def test_a_blown_up_state_stops_with_a_clear_error() -> None:
    model = _model()
    model.qh = model.qh * np.nan
    with pytest.raises(QGBlowUpError, match="blew up"), torch_threads(1):
        next(model.run_days(1))
