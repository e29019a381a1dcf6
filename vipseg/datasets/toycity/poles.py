"""Poles of the toy city carrying traffic signs and traffic lights."""

import numpy as np

from ..cityscapes_labels import NAME_TO_LABEL
from .canvas import Canvas, View, pick


def _sign(cv: Canvas, rng, cx: float, cy: float, size: float) -> None:
    """A traffic-sign plate: blue disc with arrow, red-ringed disc, warning triangle or square."""
    v, r, kind = NAME_TO_LABEL["traffic sign"].id, size / 2, rng.integers(4)
    red, blue, white = pick(rng, [(210, 30, 35)], 8), pick(rng, [(30, 80, 185)], 8), (240,) * 3
    if kind == 0:
        cv.circle((cx, cy), r, v, blue)
        cv.poly(
            [(cx - r * 0.5, cy + r * 0.2), (cx, cy - r * 0.6), (cx + r * 0.5, cy + r * 0.2)],
            v,
            white,
        )
    elif kind == 1:
        cv.circle((cx, cy), r, v, red)
        cv.circle((cx, cy), r * 0.7, v, white)
    elif kind == 2:
        tri = np.array([(0, -1.0), (0.95, 0.7), (-0.95, 0.7)])
        cv.poly(np.array([cx, cy]) + tri * r, v, red)
        cv.poly(np.array([cx, cy]) + tri * r * 0.6, v, white)
    else:
        cv.poly([(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)], v, blue)
        cv.poly(
            [
                (cx - r * 0.3, cy - r * 0.6),
                (cx + r * 0.3, cy - r * 0.6),
                (cx + r * 0.3, cy + r * 0.6),
                (cx - r * 0.3, cy + r * 0.6),
            ],
            v,
            white,
        )


def _light(cv: Canvas, rng, cx: float, top: float, width: float) -> None:
    """A traffic light: a near-black housing with three lamps, one of them lit."""
    v, w, h = NAME_TO_LABEL["traffic light"].id, width, width * 2.7
    cv.poly(
        [(cx - w / 2, top), (cx + w / 2, top), (cx + w / 2, top + h), (cx - w / 2, top + h)],
        v,
        pick(rng, [(32, 34, 30)], 5),
    )
    lit = rng.integers(3)
    for i, on in enumerate(((235, 40, 30), (240, 170, 20), (40, 220, 120))):
        cv.circle((cx, top + h * (i + 0.5) / 3), w * 0.3, v, on if i == lit else (70, 70, 62))


def pole(cv: Canvas, rng, view: View, x: float, z: float, kind: str) -> None:
    """A grey pole carrying a sign, a light, or both (light on top)."""
    p, u, hgt = view.ppm(z), view.u, rng.uniform(4.2, 5.6)
    half = max(0.09 * p, 2.0 * u)  # at least ~4 px wide at 256 rows
    (cx, y0), (_, y1) = view.pt(x, z), view.pt(x, z, hgt)
    color = pick(rng, [(128, 130, 140)], 10)
    cv.poly(
        [(cx - half, y0), (cx + half, y0), (cx + half, y1), (cx - half, y1)],
        NAME_TO_LABEL["pole"].id,
        color,
    )
    light_w = max(0.4 * p, 6 * u)
    if kind in ("light", "both"):
        _light(cv, rng, cx, y1, light_w)
    if kind in ("sign", "both"):
        size = max(0.8 * p, 13 * u)
        cy = y1 + size / 2 + (light_w * 2.7 + 0.3 * p if kind == "both" else 0)
        _sign(cv, rng, cx, cy, size)
