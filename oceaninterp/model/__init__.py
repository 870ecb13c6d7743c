"""The SSH 4DVarNet assembled from :mod:`oceaninterp.variational`, and its checkpoints.

- :func:`build_model`, :class:`SSH4DVarNet` (:mod:`.ssh`);
- :mod:`.checkpoint`: ``save_checkpoint``, ``load_checkpoint``, ``describe_checkpoint``;
- :mod:`.data`: training tiles from a cube and its truth.

Importing this package imports torch.
"""

from oceaninterp.model.ssh import SSH4DVarNet, build_model

__all__ = ["SSH4DVarNet", "build_model"]
