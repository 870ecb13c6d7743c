"""The SSH 4DVarNet: the generic variational core assembled for sea surface height tiles.

A tile is ``T`` days x ``H`` x ``W`` pixels of a daily regular grid; the days
are the channels of 2-D convolutions (reference code's choice). The model holds
its normalisation (training SSH mean and std, SST mean and std) as buffers,
so a checkpoint maps metres to metres on its own.

Pieces (all from :mod:`oceaninterp.variational`): the bilinear auto-encoder
prior Phi, the masked observation term (plus the multimodal SST term when
``use_sst``), the ConvLSTM-modulated gradient solver, and a final pass of
the estimate through Phi. The solver starts from a Gaussian gap-filling of the
observations (:func:`smoothed_observations`) unless ``first_guess="zeros"``
(the reference's start: observations, 0 in the gaps).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from oceaninterp.config import ModelConfig
from oceaninterp.variational import (
    BilinearAE,
    ConvLSTMModulator,
    LearnedGradientSolver,
    MaskOperator,
    MultimodalTerm,
    VariationalCost,
    observations_first_guess,
)
from oceaninterp.variational.operators import masked_observations


def _gaussian(radius: int, sigma: float, like: Tensor) -> Tensor:
    offsets = torch.arange(-radius, radius + 1, dtype=like.dtype, device=like.device)
    return torch.exp(-0.5 * (offsets / sigma) ** 2)


def smoothed_observations(
    y: Tensor, mask: Tensor, sigma_days: float, sigma_pixels: float
) -> Tensor:
    """Gaussian normalised convolution of the observations: a smooth gap-filled field.

    ``G * (mask y) / G * mask`` with a Gaussian ``G`` of ``sigma_days`` across
    the days (channels) and ``sigma_pixels`` in space (truncated at 4 sigma);
    0 (the normalised mean) where no observation lies within reach.

    Parameters
    ----------
    y, mask
        Normalised observations and their 0/1 mask, ``(B, T, H, W)``.
    sigma_days, sigma_pixels
        Gaussian widths in days and in grid cells.
    """
    mask = mask.to(y.dtype)
    stack = torch.cat((masked_observations(y, mask) * mask, mask))  # numerator and denominator
    days = torch.arange(y.shape[1], dtype=y.dtype, device=y.device)
    in_time = torch.exp(-0.5 * ((days[:, None] - days[None, :]) / sigma_days) ** 2)
    stack = torch.einsum("ts,bshw->bthw", in_time, stack)
    radius = max(1, int(4 * sigma_pixels))
    g = _gaussian(radius, sigma_pixels, y)
    flat = stack.reshape(-1, 1, *stack.shape[2:])
    flat = F.conv2d(flat, g.view(1, 1, -1, 1), padding=(radius, 0))
    flat = F.conv2d(flat, g.view(1, 1, 1, -1), padding=(0, radius))
    numerator, weight = flat.reshape(stack.shape).chunk(2)
    reached = weight > 1e-6
    return torch.where(reached, numerator / weight.clamp_min(1e-6), torch.zeros_like(weight))


class SSH4DVarNet(nn.Module):
    """4DVarNet for gridded SSH tiles ``(B, T, H, W)``.

    Parameters
    ----------
    cfg
        The architecture (see :class:`~oceaninterp.config.ModelConfig`).

    Notes
    -----
    :meth:`forward` works in normalised units (training); :meth:`reconstruct`
    takes and returns metres. H and W must be multiples of 4.
    """

    ssh_mean: Tensor
    ssh_std: Tensor
    sst_mean: Tensor
    sst_std: Tensor

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        days = cfg.tile_time
        prior = BilinearAE(days, cfg.prior_width, spatial_dims=2, downsample=2)
        fields = int(cfg.use_sst) + int(cfg.oi_input)  # auxiliary fields z, T channels each
        multimodal = MultimodalTerm(days, days * fields, cfg.sst_features) if fields else None
        cost = VariationalCost(
            MaskOperator(), prior, obs_weight=1.0, prior_weight=1.0, multimodal=multimodal
        )
        modulator = ConvLSTMModulator(
            days, cfg.lstm_hidden, spatial_dims=2, downsample=cfg.modulator_downsample
        )
        self.solver = LearnedGradientSolver(
            cost, modulator, cfg.n_step, cfg.lr_grad, final_prior=True
        )
        for name, value in (
            ("ssh_mean", 0.0),
            ("ssh_std", 1.0),
            ("sst_mean", 0.0),
            ("sst_std", 1.0),
        ):
            self.register_buffer(name, torch.tensor(value, dtype=torch.float32))

    @property
    def device(self) -> torch.device:
        """Where the model's tensors are."""
        return self.ssh_mean.device

    @property
    def cost(self) -> VariationalCost:
        """The variational cost (its ``prior`` is Phi)."""
        return self.solver.cost

    def set_normalisation(
        self, ssh_mean: float, ssh_std: float, sst_mean: float = 0.0, sst_std: float = 1.0
    ) -> None:
        """Store the training statistics: SSH in metres, SST in kelvin (stds > 0)."""
        if not (ssh_std > 0 and sst_std > 0):
            raise ValueError(f"set_normalisation: stds must be > 0, got {ssh_std}, {sst_std}")
        for name, value in (
            ("ssh_mean", ssh_mean),
            ("ssh_std", ssh_std),
            ("sst_mean", sst_mean),
            ("sst_std", sst_std),
        ):
            getattr(self, name).fill_(float(value))

    def normalisation(self) -> dict[str, float]:
        """``{"mean", "std"}`` (metres) and ``{"sst_mean", "sst_std"}`` (kelvin)."""
        return {
            "mean": float(self.ssh_mean),
            "std": float(self.ssh_std),
            "sst_mean": float(self.sst_mean),
            "sst_std": float(self.sst_std),
        }

    def normalise(
        self, obs: Tensor, sst: Tensor | None = None, oi: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Metres (NaN = unobserved) and kelvin to the solver's inputs.

        Parameters
        ----------
        obs, sst, oi
            Tiles ``(B, T, H, W)``: observations (metres), SST (kelvin; when
            ``cfg.use_sst``) and the OI map of the observations (metres, when
            ``cfg.oi_input``; normalised as the SSH).

        Returns
        -------
        y, mask, aux
            Normalised observations (0 where unobserved), the 0/1 float mask,
            and the auxiliary fields (SST then OI, ``T`` channels each; 0 where
            missing) or ``None``.
        """
        mask = torch.isfinite(obs)
        y = masked_observations((obs - self.ssh_mean) / self.ssh_std, mask)
        fields = []
        if self.cfg.use_sst:
            if sst is None:
                raise ValueError("this model uses SST: pass sst (kelvin)")
            fields.append(torch.nan_to_num((sst - self.sst_mean) / self.sst_std, nan=0.0))
        if self.cfg.oi_input:
            if oi is None:
                raise ValueError("this model takes the OI map of its observations: pass oi (m)")
            fields.append(torch.nan_to_num((oi - self.ssh_mean) / self.ssh_std, nan=0.0))
        aux = torch.cat(fields, dim=1) if fields else None
        return y, mask.to(obs.dtype), aux

    def first_guess(self, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        """The solver's initial state (normalised units), per ``cfg.first_guess``.

        ``"oi"`` starts from the OI map, the last ``T`` channels of ``aux``.
        """
        if self.cfg.first_guess == "zeros":
            return observations_first_guess(y, mask)
        if self.cfg.first_guess == "oi":
            if aux is None:
                raise ValueError("first_guess 'oi': pass the OI map (see normalise)")
            return aux[:, -self.cfg.tile_time :]
        return smoothed_observations(
            y, mask, self.cfg.first_guess_sigma_days, self.cfg.first_guess_sigma_pixels
        )

    def forward(self, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        """Solve for the normalised state from normalised observations (see :meth:`normalise`)."""
        return self.solver(self.first_guess(y, mask, aux), y, mask, aux)

    def _check(self, name: str, tile: Tensor) -> None:
        if tile.ndim != 4 or tile.shape[1] != self.cfg.tile_time:
            raise ValueError(
                f"{name}: expected (B, {self.cfg.tile_time}, H, W), got {tuple(tile.shape)}"
            )
        if tile.shape[2] % 4 or tile.shape[3] % 4:
            raise ValueError(f"{name}: H and W must be multiples of 4, got {tuple(tile.shape)}")

    def reconstruct(
        self, obs: Tensor, sst: Tensor | None = None, oi: Tensor | None = None
    ) -> Tensor:
        """Map SSH tiles from gridded observations.

        Parameters
        ----------
        obs
            ``(B, T, H, W)`` SSH observations in metres, NaN where unobserved;
            H and W multiples of 4.
        sst
            ``(B, T, H, W)`` SST in kelvin (NaN where missing); required when
            the model uses SST, ignored otherwise.
        oi
            ``(B, T, H, W)`` OI map of the observations in metres; required
            when the model takes it (``cfg.oi_input``), ignored otherwise.

        Returns
        -------
        Tensor
            ``(B, T, H, W)`` SSH in metres, float32, on the module's device,
            without autograd history.
        """
        self._check("obs", obs)
        device = self.device
        obs = obs.to(device=device, dtype=torch.float32)
        extra = {"sst": sst if self.cfg.use_sst else None, "oi": oi if self.cfg.oi_input else None}
        for name, tile in extra.items():
            if tile is None:
                continue
            self._check(name, tile)
            if tile.shape != obs.shape:
                raise ValueError(
                    f"{name}: shape {tuple(tile.shape)} differs from obs {tuple(obs.shape)}"
                )
            extra[name] = tile.to(device=device, dtype=torch.float32)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                y, mask, aux = self.normalise(obs, extra["sst"], extra["oi"])
                state = self(y, mask, aux)
        finally:
            self.train(was_training)
        return (state * self.ssh_std + self.ssh_mean).float()


def build_model(cfg: ModelConfig | None = None) -> SSH4DVarNet:
    """A freshly initialised SSH 4DVarNet (default :class:`ModelConfig` when ``None``)."""
    return SSH4DVarNet(cfg or ModelConfig())
