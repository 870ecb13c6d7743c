"""The named choices shared across the package: one ``Literal`` type and its values each.

A type annotates a field or a parameter (a type checker then sees a wrong
name); its tuple of values (``typing.get_args``) is what a check lists in its
message. :func:`oceaninterp.config.check_fields` checks a ``Literal`` field.
"""

from __future__ import annotations

from typing import Literal, get_args

#: What a sea level holds: the anomaly (SLA, about a mean) or the absolute dynamic topography.
SshKind = Literal["sla", "adt"]
SSH_KINDS: tuple[SshKind, ...] = get_args(SshKind)

#: What a failing input file or unit does: reported and left out (skip), or the end (fail).
OnError = Literal["skip", "fail"]
ON_ERROR: tuple[OnError, ...] = get_args(OnError)

#: Mapping methods (:func:`oceaninterp.reconstruct.reconstruct`).
Method = Literal["4dvarnet", "oi"]
METHODS: tuple[Method, ...] = get_args(Method)

#: Where a 4DVarNet's SSH normalisation comes from when it maps: its training, or the cube's
#: observations (:func:`oceaninterp.model.inference.observed_normalisation`).
Normalisation = Literal["checkpoint", "observations"]
NORMALISATIONS: tuple[Normalisation, ...] = get_args(Normalisation)

#: Torch devices a user names: ``auto`` is CUDA when torch sees it, else the CPU.
Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[Device, ...] = get_args(Device)

#: Formats of the files a pipeline writes: NetCDF-4 or Zarr v3.
Format = Literal["netcdf", "zarr"]
FORMATS: tuple[Format, ...] = get_args(Format)

#: Training losses (:class:`oceaninterp.variational.LossKind` has the same values).
Loss = Literal["supervised", "regularised", "unsupervised"]
LOSSES: tuple[Loss, ...] = get_args(Loss)
