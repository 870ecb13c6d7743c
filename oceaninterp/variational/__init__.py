"""The generic variational core of 4DVarNet: nothing here knows about oceans.

States are ``(B, C, *space)`` tensors (see :mod:`.operators` for the
conventions); the same classes solve the Lorenz problems of
``benchmarks/lorenz.py`` and the SSH tiles of :mod:`oceaninterp.model`.

- :mod:`.operators`: ``MaskOperator``, ``ConvOperator``, ``MultimodalTerm``,
  ``adjointness_error``;
- :mod:`.costs`: ``VariationalCost``;
- :mod:`.priors`: ``BilinearAE``, ``UNet``, ``ODEPrior``;
- :mod:`.dynamics`: ``Lorenz63``, ``Lorenz96``, ``BilinearDynamics``,
  ``StandardisedDynamics``, ``rk4_step``;
- :mod:`.modulators`: ``ConvLSTMModulator``;
- :mod:`.solvers`: ``GradientDescentSolver``, ``FixedPointSolver``,
  ``LearnedGradientSolver``;
- :mod:`.baselines`: ``DirectNet``;
- :mod:`.losses`: ``LossKind``, ``LossWeights``, ``training_loss``.

Importing this package imports torch.
"""

from oceaninterp.variational.baselines import DirectNet
from oceaninterp.variational.costs import VariationalCost
from oceaninterp.variational.dynamics import (
    BilinearDynamics,
    Lorenz63,
    Lorenz96,
    StandardisedDynamics,
    rk4_step,
)
from oceaninterp.variational.losses import LossKind, LossTerms, LossWeights, training_loss
from oceaninterp.variational.modulators import ConvLSTMModulator, ConvLSTMState
from oceaninterp.variational.operators import (
    ConvOperator,
    MaskOperator,
    MultimodalTerm,
    ObservationOperator,
    adjointness_error,
)
from oceaninterp.variational.priors import BilinearAE, ODEPrior, UNet
from oceaninterp.variational.solvers import (
    FixedPointSolver,
    GradientDescentSolver,
    LearnedGradientSolver,
    observations_first_guess,
)

__all__ = [
    "BilinearAE",
    "BilinearDynamics",
    "ConvLSTMModulator",
    "ConvLSTMState",
    "ConvOperator",
    "DirectNet",
    "FixedPointSolver",
    "GradientDescentSolver",
    "LearnedGradientSolver",
    "Lorenz63",
    "Lorenz96",
    "LossKind",
    "LossTerms",
    "LossWeights",
    "MaskOperator",
    "MultimodalTerm",
    "ODEPrior",
    "ObservationOperator",
    "UNet",
    "VariationalCost",
    "adjointness_error",
    "observations_first_guess",
    "StandardisedDynamics",
    "rk4_step",
    "training_loss",
]
