"""The number of torch CPU threads, set for a block of code and then restored."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch intra-op CPU threads (``None``: unchanged).

    Small problems (the QG model's FFTs, small Cholesky factorisations in the
    OI) run fastest on one thread, and many times faster on a busy CPU, where
    threaded kernels mostly wait on synchronisation. The previous thread count
    is restored on exit, also after an exception.
    """
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
