"""Hostile checkpoints (issue 14): each is refused with one line naming the problem.

A small generated corpus: a tiny trained-shape checkpoint, edited one way per
case. Every case must end as an :class:`InputError` naming the key or tensor,
before any model is built (no allocation from a hostile description), and the
``info`` command must print one ``error:`` line and exit 1.
"""

from __future__ import annotations

import json
import resource
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from oceaninterp.cli.app import main
from oceaninterp.config import ModelConfig
from oceaninterp.errors import InputError
from oceaninterp.model import build_model
from oceaninterp.model.checkpoint import DIGEST_KEY, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]
CFG = ModelConfig(
    tile_time=5, tile_latitude=12, tile_longitude=16, prior_width=6, lstm_hidden=6, n_step=2
)
META = {"resolution": 0.1, "ssh_kind": "sla", "training": {}, "validation": {"mu": 0.9}}


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = build_model(CFG)
    model.set_normalisation(ssh_mean=0.1, ssh_std=0.2)
    return save_checkpoint(tmp_path / "model.pt", model, META)


def _description(edit: Callable[[dict], None], *, digest: bool = False):
    """A payload edit changing the description (and, with ``digest``, re-digesting it)."""

    def apply(payload: dict) -> None:
        meta = json.loads(payload["meta_json"])
        edit(meta)
        payload["meta_json"] = json.dumps(meta)
        if not digest:
            payload.pop(DIGEST_KEY, None)  # as an older checkpoint, or a careful forger

    return apply


def _tensor(name: str, change: Callable[[torch.Tensor], torch.Tensor]):
    def apply(payload: dict) -> None:
        payload["state_dict"][name] = change(payload["state_dict"][name])

    return apply


def _first_weight(payload: dict) -> str:
    return next(k for k, v in payload["state_dict"].items() if v.ndim > 1)


def _one_nan(payload: dict) -> None:
    name = _first_weight(payload)
    weight = payload["state_dict"][name].clone()
    weight.view(-1)[3] = float("nan")
    payload["state_dict"][name] = weight


def _all_nan(payload: dict) -> None:
    for name, tensor in payload["state_dict"].items():
        payload["state_dict"][name] = torch.full_like(tensor, float("nan"))


def _integer(payload: dict) -> None:
    name = _first_weight(payload)
    payload["state_dict"][name] = payload["state_dict"][name].round().to(torch.int32)


def _set(key: str, value):
    return _description(lambda meta: meta.__setitem__(key, value))


def _set_model(key: str, value):
    return _description(lambda meta: meta["model_config"].__setitem__(key, value))


CASES = {
    "resolution-string": (_set("resolution", "0.1"), "resolution: expected a number"),
    "resolution-zero": (_set("resolution", 0), "resolution"),
    "ssh-kind-unknown": (_set("ssh_kind", "mss"), "ssh_kind: expected one of"),
    "mdt-garbage-string": (_set("mdt", "mdt.nc"), "mdt: expected"),
    "mdt-garbage-digest": (
        _set("mdt", {"file": "m.nc", "sha256": "xyz", "cube_ssh_kind": "adt"}),
        "mdt: expected",
    ),
    "tile-inconsistent": (_set("tile", {"time": 7, "latitude": 12, "longitude": 16}), "tile"),
    "uses-sst-inconsistent": (_set("uses_sst", True), "uses_sst"),
    "normalisation-garbage": (_set("normalisation", {"mean": "a"}), "normalisation"),
    "normalisation-zero-std": (
        _set("normalisation", {"mean": 0.1, "std": 0.0, "sst_mean": 0.0, "sst_std": 1.0}),
        "stds must be positive",
    ),
    "normalisation-edited": (
        _set("normalisation", {"mean": 0.3, "std": 0.2, "sst_mean": 0.0, "sst_std": 1.0}),
        "normalisation mean 0.3 of the description is not the model's",
    ),
    "training-not-object": (_set("training", "x"), "training"),
    "valid-latitudes-text": (_set("valid_latitudes", "30..40"), "valid_latitudes: expected"),
    "abs-latitudes-reversed": (
        _set("valid_abs_latitudes", [45, 20]),
        r"valid_abs_latitudes: expected \[low, high\] degrees in 0\.\.90",
    ),
    "abs-latitudes-signed": (_set("valid_abs_latitudes", [-10, 20]), "valid_abs_latitudes"),
    "training-latitude-nan": (
        _description(lambda meta: meta["training"].__setitem__("latitude", [float("nan"), 1])),
        "training.latitude: expected",
    ),
    "prior-width-huge": (_set_model("prior_width", 10**7), r"prior_width: expected an integer"),
    "n-step-huge": (_set_model("n_step", 10**7), r"n_step: expected an integer in 1\.\.100"),
    "tile-string": (_set_model("tile_time", "5"), "tile_time: expected an integer"),
    "lr-grad-nan": (_set_model("lr_grad", float("nan")), "lr_grad: expected a finite number"),
    "model-config-unknown-key": (_set_model("colour", 1), r"unknown key\(s\) \['colour'\]"),
    "weights-shape": (_set_model("prior_width", 512), "do not match the described architecture"),
    "one-nan-weight": (_one_nan, "holds 1 non-finite value"),
    "all-nan": (_all_nan, "non-finite"),
    "ssh-std-buffer-zero": (
        _tensor("ssh_std", torch.zeros_like),
        "buffer ssh_std is 0.0: a std must be positive",
    ),
    "integer-weights": (_integer, "not floating point"),
    "ssh-kind-edited": (
        _description(lambda meta: meta.__setitem__("ssh_kind", "adt"), digest=True),
        "does not match the digest saved with the weights",
    ),
    "digest-not-string": (lambda p: p.__setitem__(DIGEST_KEY, 3), "is not a string"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_checkpoints_are_refused_naming_the_problem(checkpoint: Path, case: str) -> None:
    edit, message = CASES[case]
    payload = torch.load(checkpoint, weights_only=True)
    edit(payload)
    torch.save(payload, checkpoint)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match=message) as caught:
        load_checkpoint(checkpoint)
    assert str(caught.value).startswith(str(checkpoint)) and "\n" not in str(caught.value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # refused before building anything


def test_text_and_empty_files_are_refused(tmp_path: Path) -> None:
    garbage = bytes(range(7, 250)) * 9
    for name, content in (("notes.pt", b"hello world\n"), ("empty.pt", b""), ("bin.pt", garbage)):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError, match="not a checkpoint written by torch.save"):
            load_checkpoint(path)


def test_the_shipped_checkpoint_without_a_digest_still_loads(tmp_path: Path) -> None:
    shipped = REPO / "sample_data" / "checkpoint.pt"
    payload = torch.load(shipped, weights_only=True)
    assert DIGEST_KEY not in payload  # written before the digest existed
    loaded = load_checkpoint(shipped)
    assert loaded.meta["ssh_kind"] == "sla"
    copy = tmp_path / "checkpoint.pt"
    shutil.copy(shipped, copy)
    meta = json.loads(payload["meta_json"])
    payload["meta_json"] = json.dumps({**meta, "mdt": "garbage"})
    torch.save(payload, copy)
    with pytest.raises(InputError, match="mdt: expected"):  # validated all the same
        load_checkpoint(copy)


def test_unknown_extra_description_keys_are_accepted(checkpoint: Path) -> None:
    payload = torch.load(checkpoint, weights_only=True)
    meta = json.loads(payload["meta_json"])
    payload["meta_json"] = json.dumps({**meta, "latitude_range": [30, 40]})
    torch.save(payload, checkpoint)
    assert load_checkpoint(checkpoint).meta["latitude_range"] == [30, 40]


def test_info_on_a_hostile_checkpoint_is_one_error_line(
    checkpoint: Path, capsys: pytest.CaptureFixture
) -> None:
    payload = torch.load(checkpoint, weights_only=True)
    _set_model("prior_width", 2**20)(payload)
    torch.save(payload, checkpoint)
    with pytest.raises(SystemExit) as exit_:
        main(["info", str(checkpoint)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert err.startswith("error: ") and err.count("\n") <= 2 and "Traceback" not in err
    assert "prior_width" in err


def test_a_removed_mdt_record_no_longer_matches_the_digest(tmp_path: Path) -> None:
    mdt = {"file": "mdt.nc", "path": "mdt.nc", "sha256": "ab" * 32, "cube_ssh_kind": "adt"}
    path = save_checkpoint(tmp_path / "sla.pt", build_model(CFG), {**META, "mdt": mdt})
    assert load_checkpoint(path).meta["mdt"] == mdt
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["meta_json"])
    del meta["mdt"]  # the maps would silently lack the MDT
    payload["meta_json"] = json.dumps(meta)
    torch.save(payload, path)
    with pytest.raises(InputError, match="does not match the digest"):
        load_checkpoint(path)
