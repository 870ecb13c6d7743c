"""The OSSE factory: a QG truth ocean and satellite observations of it.

- :mod:`~oceaninterp.simulate.qg`: the two-layer quasi-geostrophic model (torch);
- :mod:`~oceaninterp.simulate.truth`: :func:`simulate_truth`, the model mapped
  onto a lon/lat box and written as the truth file;
- :mod:`~oceaninterp.simulate.orbits`: exact-repeat J2 ground tracks, calibrated phases;
- :mod:`~oceaninterp.simulate.swath`: SWOT KaRIn swath geometry;
- :mod:`~oceaninterp.simulate.errors`: instrument and MDT errors, the ``*_filtered`` low-passes;
- :mod:`~oceaninterp.simulate.layout`: names and grouping of the written files;
- :mod:`~oceaninterp.simulate.sst`: the SST reference and its L4-like analysis;
- :mod:`~oceaninterp.simulate.observations`: :func:`simulate_obs`, files in
  the real product formats, written through :mod:`oceaninterp.products`.

Nothing heavy is imported here (torch loads inside the QG model).
"""
