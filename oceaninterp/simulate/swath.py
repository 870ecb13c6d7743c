"""SWOT KaRIn swath geometry: two 50 km swaths, 10 to 60 km either side of nadir.

Lines are spaced 2 km along track; each line has 69 pixels 2 km apart
centred on nadir (cross-track distance -68 .. 68 km, positive to the right
of the direction of flight), the layout of the AVISO SWOT L3 LR SSH files.
Only pixels 10 to 60 km from nadir carry KaRIn data. A coarser pixel size
(for small samples) keeps the same -68 .. 68 km extent with fewer pixels.
"""

from __future__ import annotations

import numpy as np

PIXEL_KM = 2.0
INNER_KM = 10.0
OUTER_KM = 60.0


SWATH_EDGE_KM = 68.0


def cross_track_distance(pixel_km: float = PIXEL_KM) -> np.ndarray:
    """Signed cross-track distance of the pixels, km (positive right of track).

    69 pixels at the native 2 km; ``2 floor(68 / pixel_km) + 1`` otherwise.
    """
    half = int(np.floor(SWATH_EDGE_KM / pixel_km + 1e-9))
    return np.arange(-half, half + 1) * float(pixel_km)


def karin_pixels(cross_track_km: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the pixels inside the KaRIn swaths (10 to 60 km from nadir)."""
    x = np.abs(cross_track_distance() if cross_track_km is None else cross_track_km)
    return (x >= INNER_KM) & (x <= OUTER_KM)


def swath_positions(
    nadir_lat: np.ndarray, nadir_lon: np.ndarray, cross_track_km: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions of a swath from its nadir track.

    Each pixel lies on the geodesic leaving nadir at +/- 90 degrees from the
    local track azimuth (WGS-84, pyproj ``Geod.fwd``), at its cross-track
    distance; the azimuth at a line is that of the chord between its two
    neighbours (one-sided at the ends).

    Parameters
    ----------
    nadir_lat, nadir_lon
        Nadir positions along track (at least two lines), degrees.
    cross_track_km
        Signed cross-track distances, km (default: :func:`cross_track_distance`).

    Returns
    -------
    latitude, longitude
        Arrays ``(num_lines, num_pixels)`` in degrees_north and degrees_east [-180, 180).
    """
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    lat = np.asarray(nadir_lat, dtype=np.float64)
    lon = np.asarray(nadir_lon, dtype=np.float64)
    if lat.size < 2:
        raise ValueError("a swath needs at least two nadir points")
    x = cross_track_distance() if cross_track_km is None else np.asarray(cross_track_km, float)
    before = np.r_[0, np.arange(lat.size - 1)]
    after = np.r_[np.arange(1, lat.size), lat.size - 1]
    azimuth, _, _ = geod.inv(lon[before], lat[before], lon[after], lat[after])
    shape = (lat.size, x.size)
    az = azimuth[:, None] + np.where(x >= 0, 90.0, -90.0)[None, :]
    plon, plat, _ = geod.fwd(
        np.broadcast_to(lon[:, None], shape).ravel(),
        np.broadcast_to(lat[:, None], shape).ravel(),
        np.broadcast_to(az, shape).ravel(),
        np.broadcast_to(np.abs(x)[None, :] * 1e3, shape).ravel(),
    )
    plon = (np.asarray(plon) + 180.0) % 360.0 - 180.0
    return np.asarray(plat).reshape(shape), plon.reshape(shape)
