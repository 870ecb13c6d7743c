"""Checkpoints: round trip, self-description, and refusal of anything unsafe or incompatible."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from oceaninterp import __version__
from oceaninterp.config import ModelConfig
from oceaninterp.errors import InputError
from oceaninterp.model import build_model
from oceaninterp.model.checkpoint import (
    DIGEST_KEY,
    FORMAT,
    FORMAT_VERSION,
    MdtRecord,
    describe_checkpoint,
    description_digest,
    load_checkpoint,
    save_checkpoint,
)
from oceaninterp.reconstruct import _latitude_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")


CFG = ModelConfig(
    tile_time=5, tile_latitude=12, tile_longitude=16, prior_width=6, lstm_hidden=6, n_step=2
)
META = {
    "resolution": 0.1,
    "ssh_kind": "adt",
    "training": {
        "cube": "cube.nc",
        "truth": "truth.nc",
        "train_dates": ["2020-01-01", "2020-03-01"],
    },
    "validation": {"mu": 0.9, "rmse_m": 0.03},
}


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(3)
    model = build_model(CFG)
    model.set_normalisation(ssh_mean=0.25, ssh_std=0.4, sst_mean=291.0, sst_std=2.5)
    return save_checkpoint(tmp_path / "model.pt", model, META), model


def _obs() -> torch.Tensor:
    generator = torch.Generator().manual_seed(5)
    obs = 0.25 + 0.4 * torch.randn(2, 5, 12, 16, generator=generator)
    obs[torch.rand(obs.shape, generator=generator) > 0.3] = float("nan")
    return obs


def test_round_trip_gives_identical_maps(saved) -> None:
    path, model = saved
    loaded = load_checkpoint(path)
    assert not loaded.model.training
    assert torch.equal(loaded.model.reconstruct(_obs()), model.reconstruct(_obs()))
    assert loaded.model.normalisation() == pytest.approx(
        {"mean": 0.25, "std": 0.4, "sst_mean": 291.0, "sst_std": 2.5}
    )


def test_description_is_complete(saved) -> None:
    path, model = saved
    info = describe_checkpoint(path)
    assert info["tile"] == {"time": 5, "latitude": 12, "longitude": 16}
    assert info["model_config"] == {**CFG.__dict__}
    assert info["uses_sst"] is False and info["ssh_kind"] == "adt" and info["resolution"] == 0.1
    assert info["normalisation"]["std"] == pytest.approx(0.4)
    assert info["oceaninterp_version"] == __version__ and info["format_version"] == FORMAT_VERSION
    assert info["validation"]["mu"] == 0.9 and info["training"]["cube"] == "cube.nc"
    assert info["parameters"] == sum(p.numel() for p in model.parameters())
    assert info["file_size_bytes"] == path.stat().st_size


def test_the_description_is_read_once_into_typed_fields(saved) -> None:
    path, _ = saved
    described = load_checkpoint(path).description
    assert described.resolution == 0.1 and described.ssh_kind == "adt"
    assert described.tile == {"time": 5, "latitude": 12, "longitude": 16}
    assert described.uses_sst is False and described.mdt is None
    norm = described.normalisation
    assert (norm.mean, norm.std, norm.sst_mean, norm.sst_std) == pytest.approx(
        (0.25, 0.4, 291, 2.5)
    )
    assert described.training["cube"] == "cube.nc" and described.validation["mu"] == 0.9
    assert described.latitude_bands == () and not described.outside(np.array([-80.0, 80])).any()
    assert describe_checkpoint(path)["latitudes"] is None


@pytest.mark.parametrize(
    ("extra", "bands"),
    [
        ({"training": {"latitude": [33.05, 42.95]}}, ((33.0, 43.0),)),  # cells' edges
        ({"valid_latitudes": [30.0, 40.0]}, ((30.0, 40.0),)),
        (
            {"valid_latitudes": [-45.0, 43.0], "valid_abs_latitudes": [20, 45]},
            ((-45, -20), (20, 45)),
        ),
    ],
    ids=["training-cube", "signed", "absolute-over-signed"],
)
def test_latitude_bands(tmp_path: Path, extra: dict, bands: tuple) -> None:
    path = save_checkpoint(tmp_path / "m.pt", build_model(CFG), {**META, **extra})
    np.testing.assert_allclose(load_checkpoint(path).description.latitude_bands, bands)
    np.testing.assert_allclose(describe_checkpoint(path)["latitudes"], bands)


def test_rows_outside_every_absolute_band_are_outside(tmp_path: Path) -> None:
    """A model of both hemispheres (|lat| 20..45) maps 30S and 38N, not 10N nor 50S."""
    meta = {**META, "valid_latitudes": [-45.0, 43.0], "valid_abs_latitudes": [20.0, 45.0]}
    path = save_checkpoint(tmp_path / "both.pt", build_model(CFG), meta)
    described = load_checkpoint(path).description
    inside = _latitude_rows(np.array([-30.0, 38.0]), described, "refuse", "both.pt")
    assert not inside.any()
    for lat in (10.0, -50.0):
        with pytest.raises(
            InputError, match=r"outside the latitudes .* \(-45\.\.-20 N, 20\.\.45 N\)"
        ):
            _latitude_rows(np.array([lat]), described, "refuse", "both.pt")
    rows = _latitude_rows(np.array([-50.0, -30.0, 10.0, 38.0]), described, "oi", "both.pt")
    assert rows.tolist() == [True, False, True, False]


def _rewrite(path: Path, edit) -> None:
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)


class _Payload:
    """An object whose unpickling would create a marker file (a stand-in for malware)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (str(self.marker),))


def test_pickle_payload_is_refused_and_never_runs(saved, tmp_path: Path) -> None:
    path, _ = saved
    marker = tmp_path / "payload-ran"
    _rewrite(path, lambda p: p.__setitem__("extra", _Payload(marker)))
    with pytest.raises(InputError, match="objects other than tensors"):
        load_checkpoint(path)
    with pytest.raises(InputError):
        describe_checkpoint(path)
    assert not marker.exists()


def test_whole_file_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.pt"
    torch.save(_Payload(marker), path)
    with pytest.raises(InputError):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.__setitem__("format", "something-else"), "format"),
        (
            lambda p: p.__setitem__(
                "meta_json", json.dumps({**json.loads(p["meta_json"]), "format_version": 99})
            ),
            "newer",
        ),
        (
            lambda p: p.__setitem__(
                "meta_json",
                json.dumps(
                    {k: v for k, v in json.loads(p["meta_json"]).items() if k != "normalisation"}
                ),
            ),
            "lacks",
        ),
        (
            lambda p: p.__setitem__(
                "meta_json",
                json.dumps(
                    {
                        **json.loads(p["meta_json"]),
                        "model_config": {**CFG.__dict__, "lstm_hidden": 7},
                    }
                ),
            ),
            "do not match",
        ),
        (lambda p: p["state_dict"].pop("ssh_mean"), "do not match"),
        (lambda p: p.__setitem__("meta_json", "{not json"), "JSON"),
        (lambda p: p.pop("meta_json"), "not an oceaninterp checkpoint"),
    ],
    ids=[
        "format",
        "newer-version",
        "missing-key",
        "shape-mismatch",
        "missing-tensor",
        "bad-json",
        "layout",
    ],
)
def test_incompatible_checkpoints_are_refused(saved, edit, message: str) -> None:
    path, _ = saved
    _rewrite(path, edit)
    with pytest.raises(InputError, match=message):
        load_checkpoint(path)


def test_non_checkpoint_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(InputError, match="not a checkpoint"):
        load_checkpoint(text)
    with pytest.raises(InputError, match="no such"):
        load_checkpoint(tmp_path / "missing.pt")


def test_saved_file_holds_only_tensors_and_json(saved) -> None:
    path, _ = saved
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {"format", "meta_json", "state_dict", DIGEST_KEY}
    assert payload["format"] == FORMAT and payload[DIGEST_KEY] == description_digest(
        json.loads(payload["meta_json"])
    )
    assert all(isinstance(t, torch.Tensor) for t in payload["state_dict"].values())
    assert not list(path.parent.glob(".tmp-*"))  # written atomically, nothing left behind


def test_descriptions_older_than_first_guess_start_from_zeros(saved) -> None:
    path, _ = saved

    def drop(payload) -> None:
        meta = json.loads(payload["meta_json"])
        del meta["model_config"]["first_guess"]
        payload["meta_json"] = json.dumps(meta)
        del payload[DIGEST_KEY]  # as written then

    _rewrite(path, drop)
    assert load_checkpoint(path).model.cfg.first_guess == "zeros"


def test_version_1_descriptions_without_an_mdt_still_load(saved) -> None:
    path, model = saved

    def as_version_1(payload) -> None:
        payload["meta_json"] = json.dumps({**json.loads(payload["meta_json"]), "format_version": 1})

    _rewrite(path, as_version_1)
    loaded = load_checkpoint(path)
    assert loaded.meta["format_version"] == 1 and loaded.description.mdt is None
    assert describe_checkpoint(path)["requires"].startswith("an adt cube as it is; an sla cube")
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.reconstruct(_obs()), model.reconstruct(_obs()))


def test_an_mdt_record_is_kept_and_shown(tmp_path: Path) -> None:
    mdt = {"file": "mdt.nc", "path": "x/mdt.nc", "sha256": "ab" * 32, "cube_ssh_kind": "adt"}
    path = save_checkpoint(
        tmp_path / "sla.pt", build_model(CFG), {**META, "ssh_kind": "sla", "mdt": mdt}
    )
    info = describe_checkpoint(path)
    assert load_checkpoint(path).description.mdt == MdtRecord(**mdt)
    assert info["mdt"] == mdt and info["format_version"] == 2
    assert "--mdt" in info["requires"] and "mdt.nc" in info["requires"]
