"""Frozen, validated configuration dataclasses, loaded from TOML.

Each dataclass validates itself in ``__post_init__`` and raises
:class:`~oceaninterp.errors.ConfigError` naming the key and what was expected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from oceaninterp.errors import ConfigError

T = TypeVar("T")


def from_mapping(cls: type[T], mapping: dict[str, Any], section: str) -> T:
    """Build dataclass ``cls`` from a TOML table, refusing unknown keys.

    Parameters
    ----------
    cls
        A dataclass type.
    mapping
        The TOML table.
    section
        The table's name, used in error messages (e.g. ``"grid"``).
    """
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(f"[{section}]: unknown key(s) {unknown}; expected some of {sorted(names)}")
    try:
        return cls(**mapping)
    except TypeError as exc:
        raise ConfigError(f"[{section}]: {exc}") from exc


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

    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    resolution: float
    start: str
    end: str

    def __post_init__(self) -> None:
        if not self.resolution > 0:
            raise ConfigError(f"resolution: expected a positive number of degrees, got {self.resolution}")
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
