"""The contract of a product format: what the registry knows of each module.

Each module of :mod:`oceaninterp.products` exports one :class:`ProductFormat`
as ``FORMAT`` (after xarray's ``BackendEntrypoint``: a description, a
content-based ``can_open``, an ``open`` whose options are declared, a
``write``). :func:`oceaninterp.products.open_product` passes a format only
the options it declares and refuses the others, naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import xarray as xr

from oceaninterp.errors import InputError

#: What a format's ``open`` returns: tidy tracks (:mod:`oceaninterp.products.schema`)
#: or a gridded dataset (time, latitude, longitude).
ProductKind = Literal["tracks", "gridded"]

#: The options every track format's ``open`` takes: ``variable`` (the
#: sea-level variable read) and ``drop_nadir`` (leave out the nadir pixels
#: copied into a swath; nothing to leave out in a nadir product).
TRACK_OPTIONS = frozenset({"variable", "drop_nadir"})


class TrackOpener(Protocol):
    """The ``open`` of every track format (nadir and swath alike)."""

    def __call__(
        self, path: str | Path, *, variable: str = "sla_filtered", drop_nadir: bool = False
    ) -> xr.Dataset:
        """Read one file as tidy tracks (:mod:`oceaninterp.products.schema`).

        Parameters
        ----------
        path
            The file.
        variable
            One of the format's ``VARIABLES``: ``sla_filtered`` or
            ``sla_unfiltered`` (anomalies, metres) or ``adt`` (absolute dynamic
            topography, metres above the geoid), each module saying which of its
            file's variables each name reads.
        drop_nadir
            Leave out the nadir pixels copied into a swath; a nadir product has
            none, so nothing is left out.

        Raises
        ------
        InputError
            Naming the file, when the variable is absent, its units are not a
            length or its times cannot be decoded.
        """
        ...


@dataclass(frozen=True)
class ProductFormat:
    """One product format: its reader, its writer and what they take.

    Attributes
    ----------
    name
        The module's name, e.g. ``"cmems_l3"``.
    description
        One line for ``oceaninterp info``.
    kind
        ``"tracks"`` (read by ``oceaninterp grid`` as observations) or ``"gridded"``.
    can_open
        ``can_open(path) -> bool``: whether a file is of this format, judged by
        its content (variables, dimensions, attributes), not by its name.
    open
        ``open(path, **options) -> xarray.Dataset``.
    write
        ``write(data, path, ...) -> Path``: the writer of the same format (atomic).
    options
        The keyword options ``open`` takes.
    variables
        The sea-level variables ``open(variable=...)`` reads (tracks), or the
        data variables of the product (gridded).
    """

    name: str
    description: str
    kind: ProductKind
    can_open: Callable[[str | Path], bool]
    open: Callable[..., xr.Dataset]
    write: Callable[..., Path]
    options: frozenset[str]
    variables: tuple[str, ...] = ()

    def read(self, path: str | Path, options: Mapping[str, Any]) -> xr.Dataset:
        """``open(path, **options)`` once every option is one this format takes.

        Raises
        ------
        InputError
            Naming the file, the format and the options it does not take.
        """
        unknown = sorted(set(options) - self.options)
        if unknown:
            takes = ", ".join(sorted(self.options)) or "none"
            raise InputError(
                path,
                f"the {self.name} format ({self.description}) takes no option "
                f"{', '.join(unknown)} (it takes {takes})",
            )
        return self.open(path, **options)
