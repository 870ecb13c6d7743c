"""oceaninterp: sea surface height mapping from satellite altimetry with 4DVarNet.

Importing the package is cheap: torch, dask.distributed and matplotlib are
imported inside the functions that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
