"""Frozen, validated configuration dataclasses, loaded from TOML.

A table is a frozen dataclass whose field annotations say what a value may be:
the type (``int``, ``float``, ``str``, ``bool``, a ``Literal`` of names, a list
of paths, each optionally ``| None``) and, through ``Annotated[..., Rule(...)]``,
its bounds. One checker (:func:`check_fields`, called by every ``__post_init__``)
reads them and raises :class:`~oceaninterp.errors.ConfigError` naming the key
and what was expected; :func:`from_mapping` adds the TOML table's name
(``[grid] resolution: expected a positive number, got -0.1``). Rules between
fields stay in each class's ``__post_init__``.

The pipeline's tables live in :mod:`oceaninterp.pipeline.config`, the tile
rules of ``reconstruct`` in :mod:`oceaninterp.tiling`.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import numbers
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import numpy as np

from oceaninterp.errors import ConfigError
from oceaninterp.kinds import Loss

T = TypeVar("T")

#: Largest TOML file read (bytes): a configuration is a few kB; a bigger file is a wrong path.
MAX_TOML_BYTES = 4 * 2**20


def load_toml(path: str | Path, what: str = "TOML file") -> dict[str, Any]:
    """Read a TOML file into a dict; every failure is one :class:`ConfigError` line.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for messages (e.g. ``"pipeline file"``).
    """
    import tomllib

    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ConfigError(f"{path}: a folder, not a {what}")
        if size > MAX_TOML_BYTES:
            raise ConfigError(f"{path}: {size} bytes is too large for a {what} (a wrong file?)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a {what}: not UTF-8 text (a binary file?)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


@dataclass(frozen=True)
class Rule:
    """Bounds of a field, read by :func:`check_fields` from ``Annotated[type, Rule(...)]``."""

    #: Inclusive lower bound of a number.
    minimum: float | None = None
    #: Inclusive upper bound of a number.
    maximum: float | None = None
    #: The number must be above 0.
    positive: bool = False
    #: The integer must be a multiple of this.
    multiple_of: int | None = None
    #: A string must hold more than spaces; a list of paths at least one.
    nonempty: bool = False
    #: A regular expression the whole string must match.
    pattern: str | None = None
    #: Names the value in a range's message (``"expected degrees_east in -180..360"``).
    unit: str | None = None
    #: Replaces every message of the field (its type's too): what is expected.
    expected: str | None = None


#: An integer >= 1, >= 0; a number > 0, >= 0; a string with more than spaces.
Count = Annotated[int, Rule(minimum=1)]
Index = Annotated[int, Rule(minimum=0)]
Positive = Annotated[float, Rule(positive=True)]
NonNegative = Annotated[float, Rule(minimum=0)]
Share = Annotated[float, Rule(minimum=0, maximum=1)]
Text = Annotated[str, Rule(nonempty=True)]
#: Paths or glob patterns: a TOML list of strings, or one string.
Paths = tuple[str, ...]


def _typed(value: Any, hint: Any, key: str) -> Any:
    """``value`` checked against a field's annotation ``hint``; ``key`` names it in errors.

    A bool is not a number, an int is a float (returned as one), a float is
    finite, a TOML date is a ``str`` field's ISO date, one string is a list of
    paths. Other annotations (nested tables) are left to the class.
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        simple = [a for a in args if a is not type(None)]
        return _typed(value, simple[0], key) if len(simple) == 1 else value
    if origin is Annotated:
        base, *extras = typing.get_args(hint)
        rules = [r for r in extras if isinstance(r, Rule)]
        try:
            value = _typed(value, base, key)
            for rule in rules:
                _within(value, rule, key)
        except ConfigError:
            for rule in rules:
                if rule.expected:
                    raise ConfigError(f"{key}: expected {rule.expected}, got {value!r}") from None
            raise
        return value
    shown = f"{value!r} ({type(value).__name__})"
    if origin is Literal:
        names = typing.get_args(hint)
        if not isinstance(value, type(names[0])) or isinstance(value, bool):
            kind = "a string" if isinstance(names[0], str) else "an integer"
            raise ConfigError(f"{key}: expected {kind}, got {shown}")
        if value not in names:
            raise ConfigError(f"{key}: expected one of {list(names)}, got {value!r}")
        return value
    if hint == Paths:
        value = (value,) if isinstance(value, str) else value
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{key}: expected a list of paths or glob patterns, got {value!r}")
        return tuple(value)
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {shown}")
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(f"{key}: expected an integer, got {shown}")
    if hint is float:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {shown}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {shown}")
    return value


def _within(value: Any, rule: Rule, key: str) -> None:
    """Raise :class:`ConfigError` unless the typed ``value`` keeps to ``rule``."""
    got = f", got {value!r}"
    if isinstance(value, (int, float)):
        what = rule.unit or ("an integer" if isinstance(value, int) else "a number")
        low, high = rule.minimum, rule.maximum
        if low is not None and high is not None and not low <= value <= high:
            raise ConfigError(f"{key}: expected {what} in {low:g}..{high:g}{got}")
        if low is not None and value < low:
            raise ConfigError(f"{key}: expected {what} >= {low:g}{got}")
        if rule.positive and not value > 0:
            raise ConfigError(f"{key}: expected a positive number{got}")
        if rule.multiple_of and value % rule.multiple_of:
            raise ConfigError(f"{key}: expected a multiple of {rule.multiple_of}{got}")
    if rule.nonempty and isinstance(value, str) and not value.strip():
        raise ConfigError(f"{key}: expected a non-empty string{got}")
    if rule.nonempty and isinstance(value, tuple) and not value:
        raise ConfigError(f"{key}: expected at least one path or glob pattern, got []")
    if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
        raise ConfigError(f"{key}: expected a match of {rule.pattern!r}{got}")


def check_fields(obj: Any, where: str = "", names: tuple[str, ...] | None = None) -> None:
    """Check and normalise the fields of the frozen dataclass ``obj`` by their annotations.

    Parameters
    ----------
    obj
        The dataclass instance (from its ``__post_init__``); a value converted
        (an int given for a float, a TOML date, one path) is stored back.
    where
        Put before each field's name in messages (e.g. ``"oi: "``).
    names
        The fields to check (default: all).

    Raises
    ------
    ConfigError
        ``<where><field>: expected ..., got ...``.
    """
    hints = typing.get_type_hints(type(obj), include_extras=True)
    for f in dataclasses.fields(obj):
        if names is None or f.name in names:
            value = getattr(obj, f.name)
            typed = _typed(value, hints[f.name], f"{where}{f.name}")
            if typed is not value:
                object.__setattr__(obj, f.name, typed)


def from_mapping(cls: type[T], mapping: dict[str, Any], section: str) -> T:
    """Build dataclass ``cls`` from a TOML table, refusing unknown keys and bad values.

    Parameters
    ----------
    cls
        A dataclass type whose ``__post_init__`` validates it.
    mapping
        The TOML table.
    section
        The table's name, put before every message (``[grid] resolution: ...``).
    """
    if not isinstance(mapping, dict):
        raise ConfigError(f"[{section}]: expected a table, got {mapping!r}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(
            f"[{section}]: unknown key(s) {unknown}; expected some of {sorted(names)}"
        )
    try:
        return cls(**mapping)
    except TypeError as exc:
        raise ConfigError(f"[{section}]: {exc}") from exc
    except ConfigError as exc:
        raise ConfigError(f"[{section}] {exc}") from None


@dataclass(frozen=True)
class GridSpec:
    """A daily regular longitude/latitude grid.

    Attributes
    ----------
    lon_min, lon_max
        Box edges in degrees_east. ``lon_min > lon_max`` means the box crosses
        the antimeridian (e.g. 170 .. -170). Either -180..180 or 0..360 values.
    lat_min, lat_max
        Box edges in degrees_north.
    resolution
        Cell size in degrees (same in longitude and latitude).
    start, end
        First and last day, ISO dates (inclusive).
    """

    lon_min: Annotated[float, Rule(minimum=-180, maximum=360, unit="degrees_east")]
    lon_max: Annotated[float, Rule(minimum=-180, maximum=360, unit="degrees_east")]
    lat_min: float
    lat_max: float
    resolution: Positive
    start: str
    end: str

    def __post_init__(self) -> None:
        check_fields(self)
        if not -90 <= self.lat_min < self.lat_max <= 90:
            raise ConfigError(
                f"lat_min/lat_max: expected -90 <= lat_min < lat_max <= 90, "
                f"got {self.lat_min}, {self.lat_max}"
            )
        if self.lon_min == self.lon_max:
            raise ConfigError("lon_min/lon_max: the box has zero width")
        try:
            start, end = np.datetime64(self.start, "D"), np.datetime64(self.end, "D")
        except ValueError as exc:
            raise ConfigError(f"start/end: expected ISO dates (YYYY-MM-DD): {exc}") from exc
        if end < start:
            raise ConfigError(f"start/end: empty date range {self.start} .. {self.end}")

    @property
    def lon_span(self) -> float:
        """Box width in degrees, handling the antimeridian."""
        return float((self.lon_max - self.lon_min) % 360.0) or 360.0

    def longitudes(self) -> np.ndarray:
        """Cell-centre longitudes in degrees_east, continuous across the box.

        Values stay monotonic: a box over the antimeridian gives e.g. 170 .. 190
        when given in 0..360 and is wrapped to [-180, 180) otherwise only if it
        does not cross; callers compare via :func:`~oceaninterp.products.schema.wrap_longitude`.
        """
        n = int(round(self.lon_span / self.resolution))
        return self.lon_min + self.resolution * (np.arange(n) + 0.5)

    def latitudes(self) -> np.ndarray:
        """Cell-centre latitudes in degrees_north."""
        n = int(round((self.lat_max - self.lat_min) / self.resolution))
        return self.lat_min + self.resolution * (np.arange(n) + 0.5)

    def days(self) -> np.ndarray:
        """The days of the grid as ``datetime64[ns]`` at 00:00 UTC."""
        start, end = np.datetime64(self.start, "D"), np.datetime64(self.end, "D")
        return np.arange(start, end + np.timedelta64(1, "D")).astype("datetime64[ns]")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(time, latitude, longitude) sizes."""
        return (self.days().size, self.latitudes().size, self.longitudes().size)


#: Bounds of the integer sizes of a :class:`ModelConfig`: far above any useful model
#: (the reference: 15 days, 240 px, width 32, 48 hidden, 10 steps), low enough that a
#: wrong or hostile value (a checkpoint's description, a TOML) is refused before it
#: allocates tens of GB or loops for days.
TilePixels = Annotated[int, Rule(minimum=1, maximum=1024, multiple_of=4)]
Channels = Annotated[int, Rule(minimum=1, maximum=512)]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the SSH 4DVarNet (:mod:`oceaninterp.model`).

    A tile is ``tile_time`` days x ``tile_latitude`` x ``tile_longitude``
    pixels; days are stacked as the channels of 2-D convolutions. The defaults
    are a model small enough to train on a few CPU cores on a 1/10 deg grid:
    the sample OSSE is the Gulf Stream box at 1/10 deg (100 x 100 pixels), so
    a 48-pixel training tile spans 4.8 deg (about 450 km: eddies of 100-200 km
    and most of a 500 km meander; the reference's tile spans 12 deg), and the
    ConvLSTM gradient modulator runs at half resolution with 32 channels. The
    convolutions apply to any tile size, so inference may use larger tiles
    than training. The reference base model
    (CIA-Oceanix 4dvarnet-starter, 1/20 deg) is ``ModelConfig(tile_latitude=240,
    tile_longitude=240, lstm_hidden=48, modulator_downsample=1, n_step=10,
    lr_grad=250, first_guess="zeros")``.

    Attributes
    ----------
    tile_time
        Days per tile (T). Default 15, the reference's window: an along-track
        pass is revisited within about 10 days, so 15 days see every track.
    tile_latitude, tile_longitude
        Training tile size in pixels; multiples of 4 (pooling by 2 in the prior
        and in the modulator). Default 48 (reference 240 at 1/20 deg).
    prior_width
        Channels of the bilinear auto-encoder prior. Default 32 (reference base).
    lstm_hidden
        Hidden channels of the ConvLSTM gradient modulator. Default 32
        (reference base 48): smaller tiles carry fewer scales.
    modulator_downsample
        The ConvLSTM runs on a grid coarser by this factor (1 or 2). Default 2:
        about 4x cheaper, and the gradient step is smooth at the pixel scale.
    n_step
        Unrolled solver iterations. Default 8 (reference base 10): 20 % less
        work per tile, to keep CPU training short.
    lr_grad
        Weight of the plain cost gradient in each solver update. Our cost sums
        per-tile means (a tile's map does not depend on its batch mates), so
        the step per observed value scales like lr_grad / (T H W). Default 10:
        on 15 x 48 x 48 tiles, the reference's step (1000 with a cost averaged
        over batches of 4 tiles of 15 x 240 x 240, i.e. 250 here at that size).
    first_guess
        The solver's initial state: ``"smooth"`` (default), a Gaussian
        normalised convolution of the observations,
        ``"zeros"`` (the reference: observations, 0 in the gaps), or ``"oi"``
        (the OI map of the observations; needs ``oi_input``).
    first_guess_sigma_days, first_guess_sigma_pixels
        Widths of that Gaussian: 2 days, 3 cells (0.3 deg at 1/10 deg).
    use_sst
        Add the multimodal observation term alpha * ||G x - F z||^2 with the
        SST field z of the cube (variable ``sst``). Default False.
    sst_features
        Channels of the trainable convolutions G and F of that term. Default 8.
    oi_input
        Give the model, as the field z of that term (beside the SST when
        ``use_sst``), the optimal interpolation of the same observations
        (:func:`oceaninterp.oi.oi_map`, default :class:`OIConfig`), computed by
        ``train`` and ``reconstruct`` themselves: a large-scale field where
        tracks are far apart (one altimeter). Default False.
    """

    tile_time: Annotated[int, Rule(minimum=1, maximum=100)] = 15
    tile_latitude: TilePixels = 48
    tile_longitude: TilePixels = 48
    prior_width: Channels = 32
    lstm_hidden: Channels = 32
    modulator_downsample: Annotated[int, Rule(minimum=1, maximum=2)] = 2
    n_step: Annotated[int, Rule(minimum=1, maximum=100)] = 8
    lr_grad: NonNegative = 10.0
    first_guess: Literal["smooth", "zeros", "oi"] = "smooth"
    first_guess_sigma_days: Positive = 2.0
    first_guess_sigma_pixels: Positive = 3.0
    use_sst: bool = False
    sst_features: Annotated[int, Rule(minimum=1, maximum=256)] = 8
    oi_input: bool = False

    def __post_init__(self) -> None:
        check_fields(self)
        if self.first_guess == "oi" and not self.oi_input:
            raise ConfigError(
                "first_guess = 'oi' needs oi_input = true (the OI map it starts from)"
            )


@dataclass(frozen=True)
class TrainConfig:
    """How ``oceaninterp train`` fits the SSH 4DVarNet (:func:`oceaninterp.train.train`).

    Loss = ``state_weight`` * MSE(x, x_true) + ``gradient_weight`` * MSE of the
    Sobel gradients + ``prior_weight`` * ||x - Phi(x)||^2, all in normalised
    units (SSH minus the training mean, over the training std), weighted by the
    tile window (a triangle in time, zero on ``loss_border`` pixels at the
    edges). Defaults of the weights, learning rates and clipping are the
    reference's (4dvarnet-starter).

    Attributes
    ----------
    epochs
        Passes over ``tiles_per_epoch`` random training tiles. Default 30.
    batch_size
        Tiles per optimiser step. Default 4 (reference).
    tiles_per_epoch
        Random training tiles drawn (seeded) per epoch. Default 64.
    learning_rate, prior_learning_rate
        Adam learning rates of the solver and of the prior (1e-3, 5e-4),
        decayed by a cosine schedule over the epochs.
    grad_clip
        Clip of the parameters' gradient norm. Default 0.5.
    loss
        ``"supervised"`` (default, the reference's), ``"regularised"`` (adds
        the prior cost of the truth) or ``"unsupervised"`` (observation misfit
        plus prior cost; the truth then serves only the validation score); see
        :mod:`oceaninterp.variational.losses`.
    state_weight, gradient_weight, prior_weight
        Loss weights (50, 1000, 1: reference).
    observation_weight
        Weight of the observation misfit of the unsupervised loss. Default 1.
    loss_border
        Pixels at each tile edge left out of the loss and the validation score.
        Default 4.
    mask_swap_fraction
        Fraction of training tiles whose observations are replaced by the truth
        seen through the observation mask of another tile (augmentation).
        Default 0.5.
    noise_augment
        Largest extra observation noise, metres: each training tile's
        observations get white noise of a std drawn uniformly in
        ``[0, noise_augment]`` (an ``oi_input`` model's OI map is then
        recomputed from them), so that the model meets the signal-to-noise
        ratios of quieter oceans than its truths (with ``reconstruct
        --normalise observations``, a 6 cm ocean seen with 3 cm of noise is a
        25 cm one seen with 12 cm). Default 0 (the simulated noise only).
    train_start, train_end, val_start, val_end, test_start, test_end
        ISO dates (inclusive) of the three periods. When none is given the days
        are split in time order: the first 70 % train, the next 15 %
        validation, the last 15 % test (kept unseen). Either give all six or none.
    val_fraction, test_fraction
        The shares used when no dates are given.
    seed
        Seeds the initial weights, the tile draws and the augmentation; a run
        on CPU with the same seed gives the same checkpoint.
    bf16
        Autocast to bfloat16 on CUDA (ignored on CPU).
    """

    epochs: Count = 30
    batch_size: Count = 4
    tiles_per_epoch: Count = 64
    learning_rate: Positive = 1e-3
    prior_learning_rate: Positive = 5e-4
    grad_clip: Positive = 0.5
    loss: Loss = "supervised"
    state_weight: NonNegative = 50.0
    gradient_weight: NonNegative = 1000.0
    prior_weight: NonNegative = 1.0
    observation_weight: NonNegative = 1.0
    loss_border: Index = 4
    mask_swap_fraction: Share = 0.5
    noise_augment: NonNegative = 0.0
    train_start: str | None = None
    train_end: str | None = None
    val_start: str | None = None
    val_end: str | None = None
    test_start: str | None = None
    test_end: str | None = None
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    bf16: bool = True

    def __post_init__(self) -> None:
        check_fields(self)
        if not (
            0 < self.val_fraction
            and 0 <= self.test_fraction
            and self.val_fraction + self.test_fraction < 1
        ):
            raise ConfigError(
                "val_fraction/test_fraction: expected val_fraction > 0, test_fraction >= 0 "
                f"and a sum below 1, got {self.val_fraction!r}, {self.test_fraction!r}"
            )
        names = ("train_start", "train_end", "val_start", "val_end", "test_start", "test_end")
        given = [getattr(self, n) is not None for n in names]
        if any(given) and not all(given):
            raise ConfigError(f"{', '.join(names)}: give all six dates or none")
        if all(given):
            try:
                for name in names:
                    np.datetime64(getattr(self, name), "D")
            except ValueError as exc:
                raise ConfigError(f"{name}: expected an ISO date (YYYY-MM-DD): {exc}") from exc
            for period in ("train", "val", "test"):
                if getattr(self, f"{period}_end") < getattr(self, f"{period}_start"):
                    raise ConfigError(f"{period}_start/{period}_end: empty date range")


def read_train_config(path: str | Path) -> tuple[ModelConfig, TrainConfig]:
    """Read the ``[model]`` and ``[train]`` tables of a TOML file (both optional).

    Raises
    ------
    ConfigError
        The file is unreadable, not UTF-8 TOML, has another table, or a key is invalid.
    """
    tables = load_toml(path, "training configuration (TOML)")
    unknown = sorted(set(tables) - {"model", "train"})
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {unknown}; expected [model] and/or [train]")
    return (
        from_mapping(ModelConfig, tables.get("model", {}), "model"),
        from_mapping(TrainConfig, tables.get("train", {}), "train"),
    )


@dataclass(frozen=True)
class OIConfig:
    """Parameters of the DUACS-like optimal interpolation (:mod:`oceaninterp.oi`).

    The prior covariance between two points is
    ``signal_std**2 * exp(-(dt/lt)**2 - (dlon/lx)**2 - (dlat/ly)**2)``
    (the baseline OI of the SSH-mapping data challenges, whose covariance has
    unit amplitude: ``signal_std = 1`` m reproduces it).

    Attributes
    ----------
    lx, ly
        Correlation lengths in degrees of longitude / latitude (plain degree
        differences, as in the data challenge).
    lt
        Correlation time in days.
    noise
        Standard deviation of the noise of one raw observation, metres; a cube
        cell averaging ``count`` observations gets variance ``noise**2 / count``.
    signal_std
        Prior standard deviation of the SSH anomaly, metres. ``None`` (the
        default) estimates a smoothed map of it from the observations
        (:func:`oceaninterp.oi.signal_std_map`), as DUACS; a number keeps it
        uniform (1 m is the data challenge's unit covariance). Only the ratio
        ``noise / signal_std`` changes the map; the formal error scales with it.
    time_window
        Observations are used within ``+/- time_window * lt`` days of the output
        days (strict inequality, as in the data challenge).
    space_cutoff
        Observations farther than ``space_cutoff * lx`` (longitude) or
        ``space_cutoff * ly`` (latitude) from an output block are ignored.
    block_days
        Output days solved together (one Cholesky factorisation per block).
    block_deg
        Edge of the spatial output blocks, degrees; ``None`` picks the block
        count per axis that minimises the estimated factorisation cost.
    superobs
        Observations of one day are averaged (count-weighted) in boxes of about
        ``superobs * min(lx, ly)`` degrees before the analysis; boxes smaller
        than two cube cells leave the cube untouched; 0 disables.
    error_step
        The formal error is computed exactly on a sub-lattice spaced by about
        ``error_step * (lt, ly, lx)`` and linearly interpolated to every cell;
        0 computes it at every cell (slow).
    dtype
        ``"float64"`` or ``"float32"`` for the linear algebra.
    batch_bytes
        Memory budget, bytes, for one batch of covariance matrices.
    """

    lx: Positive = 1.0
    ly: Positive = 1.0
    lt: Positive = 7.0
    noise: Positive = 0.05
    signal_std: Positive | None = None
    time_window: Positive = 2.0
    space_cutoff: Positive = 3.0
    block_days: Count = 14
    block_deg: Positive | None = None
    superobs: NonNegative = 0.2
    error_step: NonNegative = 0.5
    dtype: Literal["float64", "float32"] = "float64"
    batch_bytes: Count = 512 * 2**20

    def __post_init__(self) -> None:
        check_fields(self)
