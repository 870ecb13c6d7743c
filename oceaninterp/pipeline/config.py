"""The pipeline TOML (``oceaninterp run``) as frozen, validated dataclasses.

One class per table: ``[pipeline]`` (:class:`RunPipeline`), ``[inputs]``
(:class:`RunInputs`), ``[grid]`` (a :class:`~oceaninterp.config.GridSpec`
whose days may be ``"today-N"``), ``[[reconstruct]]`` (:class:`RunReconstruct`),
``[score]`` (:class:`RunScore`) and ``[dask]`` (:class:`RunDask`); the whole
file is a :class:`RunConfig`. Fields are checked by their annotations
(:func:`oceaninterp.config.check_fields`); messages name ``[table] key``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from oceaninterp.config import (
    Count,
    GridSpec,
    Index,
    OIConfig,
    Paths,
    Rule,
    Share,
    Text,
    check_fields,
    from_mapping,
    load_toml,
)
from oceaninterp.cube import COASTLINE, NO_LAND
from oceaninterp.errors import ConfigError
from oceaninterp.kinds import Device, Format, Method, Normalisation, OnError


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class RunPipeline:
    """The ``[pipeline]`` table of a pipeline TOML.

    Attributes
    ----------
    name
        A short name, used in logs and the manifest.
    output_root
        Folder of every output (cubes, maps, scores, manifest, logs, lock);
        relative paths are relative to the TOML file's folder. The command
        line's ``-o`` overrides it.
    on_error
        ``"skip"`` (default): a failing input file or day is reported, the
        other days go on and the run exits non-zero; ``"fail"``: the run stops
        at the first failure (finished outputs stay valid).
    format
        ``"netcdf"`` (default): one NetCDF-4 file per day for cubes and maps;
        ``"zarr"``: one Zarr v3 store per day.
    """

    name: Text
    output_root: Annotated[str, Rule(nonempty=True, expected="a folder path")] = "runs"
    on_error: OnError = "skip"
    format: Format = "netcdf"

    def __post_init__(self) -> None:
        check_fields(self)


#: ``[inputs] land_mask``: the GSHHG coastline, no mask, or a land mask file.
LandMask = Annotated[
    str,
    Rule(
        nonempty=True,
        expected=f"{COASTLINE!r} (the GSHHG coastline), {NO_LAND!r} (no land mask) "
        "or a land mask file path",
    ),
]


@dataclass(frozen=True)
class RunInputs:
    """The ``[inputs]`` table: which product files feed the grid stage.

    Attributes
    ----------
    observations
        Paths or glob patterns (``**`` allowed) of along-track or swath files
        readable by :func:`oceaninterp.products.open_product`; relative to the
        TOML file's folder.
    variable
        The sea-level variable gridded (``"sla_filtered"``, ``"adt"``, ...), as
        for ``oceaninterp grid --variable``.
    sst
        Optional L4 SST files or patterns, gridded onto the cube as ``sst``.
    latest_production
        Of CMEMS files named ``..._<YYYYMMDD>_<production YYYYMMDD>.nc`` that
        differ only by production date, keep the latest (NRT archives hold
        several). Default true.
    mdt
        Optional mean dynamic topography file (``mdt`` in metres, see
        :mod:`oceaninterp.mdt`), given to every ``[[reconstruct]]`` method as
        ``reconstruct(mdt=...)``: the OI and MDT-trained 4DVarNets map the SLA
        and add it back; every map then holds ``sla`` and ``adt``. Required by
        a checkpoint trained with an MDT.
    land_mask
        Where land is, for the grid stage (land cells never observed, their
        observations dropped; ``grid_files(land_mask=...)``) and the maps stage
        (land masked in every map; ``reconstruct(land=...)``):
        ``"coastline"`` (default): the GSHHG coastline shipped with
        ``roaring-landmask``; ``"none"``: no land mask (every cell may be
        observed and mapped; an MDT's own land still counts); any other string:
        a land mask file (NetCDF/Zarr, 1-D latitude/longitude and a variable
        ``land``/``lsm`` = 1 on land or ``sea``/``mask`` = 1 at sea, see
        :mod:`oceaninterp.landmask`), relative to the TOML file's folder.
        Part of the keys of the cubes and maps: changing it (or the mask
        file's bytes) re-grids and re-maps every day.
    """

    observations: Annotated[Paths, Rule(nonempty=True)]
    variable: Annotated[
        str, Rule(nonempty=True, expected="a variable name such as 'sla_filtered' or 'adt'")
    ] = "sla_filtered"
    sst: Paths = ()
    latest_production: bool = True
    mdt: Text | None = None
    land_mask: LandMask = COASTLINE

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class RunReconstruct:
    """One ``[[reconstruct]]`` table: a mapping method run on the daily cubes.

    Attributes
    ----------
    name
        Names the maps folder (``maps/<name>/``) and the scores; unique.
    method
        ``"4dvarnet"`` (needs ``checkpoint``) or ``"oi"``.
    checkpoint
        A checkpoint file (relative to the TOML file's folder) for 4dvarnet.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``; on a dask cluster ``"auto"`` uses
        the worker's own GPU when it has one.
    halo_days
        Days of observations used on each side of the days mapped. Default:
        half the checkpoint's tile length for 4dvarnet; for OI the reach of
        its observation window, ``OIConfig.time_window * OIConfig.lt`` (14).
    block_days
        Days mapped by one reconstruction call (one dask task); blocks are
        aligned on the grid's first day, so a serial and a distributed run do
        the same calls. Default 30.
    oi
        For ``method = "oi"``: the :class:`OIConfig` fields to change, as an
        inline table (``oi = { lx = 1.5, lt = 10.0 }``); defaults otherwise.
    normalise
        For 4dvarnet: the SSH mean and std the model works in, ``"checkpoint"``
        (default) or ``"observations"`` (those of each block's window of
        observations; ``reconstruct --normalise``).
    oi_weight
        For 4dvarnet: the maps are ``(1 - oi_weight)`` x the model +
        ``oi_weight`` x the OI of the block's observations (default OI
        settings; ``reconstruct --oi-weight``). Default 0: the model alone.
    """

    name: Annotated[str, Rule(pattern=r"[\w-]+", expected="letters, digits, '-' or '_'")]
    method: Method = "4dvarnet"
    checkpoint: Text | None = None
    device: Device = "auto"
    halo_days: Index | None = None
    block_days: Count = 30
    oi: OIConfig | None = None
    normalise: Normalisation = "checkpoint"
    oi_weight: Share = 0.0

    def __post_init__(self) -> None:
        check_fields(self, names=("name",))
        check_fields(self, where=f"{self.name}: ")
        if self.method == "4dvarnet" and not self.checkpoint:
            raise ConfigError(f"{self.name}: checkpoint: expected a checkpoint file for 4dvarnet")
        if self.method != "4dvarnet" and self.normalise != "checkpoint":
            raise ConfigError(f"{self.name}: normalise: only for method '4dvarnet'")
        if self.method != "4dvarnet" and self.oi_weight:
            raise ConfigError(f"{self.name}: oi_weight: only for method '4dvarnet'")
        if self.oi is not None:
            if self.method != "oi" or not isinstance(self.oi, (dict, OIConfig)):
                raise ConfigError(
                    f"{self.name}: oi: expected a table of OI settings for method 'oi'"
                )
            if isinstance(self.oi, dict):
                try:
                    oi = from_mapping(OIConfig, self.oi, "oi")
                except ConfigError as exc:
                    raise ConfigError(f"{self.name}: {exc}") from None
                object.__setattr__(self, "oi", oi)


@dataclass(frozen=True)
class RunScore:
    """The optional ``[score]`` table: score every method's maps.

    Attributes
    ----------
    truth
        A truth file (OSSE; contract: ``ssh`` in metres on a daily grid).
    tracks
        Withheld along-track files or patterns (OSE), used when no truth is given.
    """

    truth: Text | None = None
    tracks: Paths = ()

    def __post_init__(self) -> None:
        check_fields(self)
        if self.truth is None and not self.tracks:
            raise ConfigError(
                "truth/tracks: expected 'truth' (a file) or 'tracks' (a list of files)"
            )


@dataclass(frozen=True)
class RunDask:
    """The optional ``[dask]`` table: scale gridding and reconstruction out.

    Attributes
    ----------
    scheduler
        Address of a running dask.distributed scheduler (``"tcp://host:8786"``).
    workers
        With no scheduler: start a LocalCluster of this many single-threaded
        worker processes. 0 (default) runs everything in this process.
    """

    scheduler: (
        Annotated[str, Rule(pattern=".*://.*", expected="an address such as 'tcp://host:8786'")]
        | None
    ) = None
    workers: Index = 0

    def __post_init__(self) -> None:
        check_fields(self)
        if self.scheduler is None and self.workers > cpu_count():
            raise ConfigError(
                f"workers: expected at most {cpu_count()} (the CPUs of this machine) "
                f"for a local cluster, got {self.workers}"
            )

    @property
    def distributed(self) -> bool:
        """Whether work goes to a dask.distributed cluster."""
        return self.scheduler is not None or self.workers > 0


def resolve_day(value: Any, key: str, today: np.datetime64) -> str:
    """An ISO date, or ``"today"``/``"today-N"``/``"today+N"`` (days, UTC), as ``YYYY-MM-DD``."""
    if isinstance(value, str):
        match = re.fullmatch(r"today(?:\s*([+-])\s*(\d+))?", value.strip())
        if match:
            offset = int(match.group(2) or 0) * (-1 if match.group(1) == "-" else 1)
            return str(today.astype("datetime64[D]") + np.timedelta64(offset, "D"))
    if hasattr(value, "isoformat"):  # a TOML date
        value = value.isoformat()
    try:
        return str(np.datetime64(str(value), "D"))
    except ValueError:
        raise ConfigError(
            f"{key}: expected an ISO date (YYYY-MM-DD), 'today' or 'today-N', got {value!r}"
        ) from None


@dataclass(frozen=True)
class RunConfig:
    """A whole pipeline TOML (``oceaninterp run``): ingest -> grid -> reconstruct -> score.

    Attributes
    ----------
    pipeline, inputs, reconstruct, score, dask
        The tables of the same names (``[[reconstruct]]`` is a list).
    grid
        The ``[grid]`` table: the daily grid of the cubes and maps, with
        ``start``/``end`` resolved to dates (they may be written ``"today-N"``).
    base_dir
        The TOML file's folder: relative paths in the file are relative to it.
    """

    pipeline: RunPipeline
    inputs: RunInputs
    grid: GridSpec
    reconstruct: tuple[RunReconstruct, ...]
    score: RunScore | None
    dask: RunDask
    base_dir: str

    @classmethod
    def from_toml(cls, path: str | Path, *, today: np.datetime64 | None = None) -> RunConfig:
        """Load and validate a pipeline TOML file.

        Parameters
        ----------
        path
            The TOML file.
        today
            The day ``"today"`` means in ``[grid] start/end`` (default: the
            current UTC day).
        """
        path = Path(path)
        data = load_toml(path, "pipeline file")
        return cls.from_mapping(data, base_dir=path.resolve().parent, today=today)

    @classmethod
    def from_mapping(
        cls, data: dict[str, Any], *, base_dir: str | Path, today: np.datetime64 | None = None
    ) -> RunConfig:
        """Validate a parsed pipeline TOML (see :meth:`from_toml`)."""
        known = {"pipeline", "inputs", "grid", "reconstruct", "score", "dask"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown table(s) {unknown}; expected some of {sorted(known)}")
        for table in ("pipeline", "inputs", "grid"):
            if not isinstance(data.get(table), dict):
                raise ConfigError(f"[{table}]: missing table")
        today = np.datetime64("today", "D") if today is None else today.astype("datetime64[D]")
        grid = dict(data["grid"])
        for key in ("start", "end"):
            if key in grid:
                grid[key] = resolve_day(grid[key], f"[grid] {key}", today)
        grid_spec = from_mapping(GridSpec, grid, "grid")
        tables = data.get("reconstruct", [])
        if isinstance(tables, dict):
            tables = [tables]
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ConfigError("[[reconstruct]]: expected an array of tables")
        reconstruct = tuple(from_mapping(RunReconstruct, t, "[reconstruct]") for t in tables)
        names = [r.name for r in reconstruct]
        if len(set(names)) != len(names):
            raise ConfigError(f"[[reconstruct]] name: expected unique names, got {names}")
        score = data.get("score")
        return cls(
            pipeline=from_mapping(RunPipeline, data["pipeline"], "pipeline"),
            inputs=from_mapping(RunInputs, data["inputs"], "inputs"),
            grid=grid_spec,
            reconstruct=reconstruct,
            score=None if score is None else from_mapping(RunScore, score, "score"),
            dask=from_mapping(RunDask, data.get("dask", {}), "dask"),
            base_dir=str(base_dir),
        )

    def path(self, value: str) -> Path:
        """``value`` as an absolute :class:`~pathlib.Path`, relative to :attr:`base_dir`."""
        return (Path(self.base_dir) / Path(value).expanduser()).resolve()

    def land_mask_file(self) -> Path | None:
        """The ``[inputs] land_mask`` file as an absolute path; ``None`` for coastline/none."""
        if self.inputs.land_mask in (COASTLINE, NO_LAND):
            return None
        return self.path(self.inputs.land_mask)
