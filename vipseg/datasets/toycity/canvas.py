"""Drawing primitives of the toy city: a pinhole view and a canvas that paints image,
label-ID map and instance map together, so labels can never drift from pixels."""

from collections.abc import Callable

import cv2
import numpy as np

from ..cityscapes_labels import NAME_TO_LABEL

Color = tuple[int, int, int]


def pick(rng: np.random.Generator, palette, jitter: float = 14.0) -> Color:
    """A palette colour with per-instance jitter, so no class is one exact colour."""
    base = np.asarray(palette[rng.integers(len(palette))], np.float64)
    return tuple(int(c) for c in np.clip(base + rng.normal(0, jitter, 3), 0, 255))


class Canvas:
    """The RGB image, label-ID map and instance map, always drawn together."""

    def __init__(self, height: int, width: int):
        self.img = np.zeros((height, width, 3), np.uint8)
        self.lab = np.zeros((height, width), np.uint8)
        self.inst = np.zeros((height, width), np.int32)
        self._next_k: dict[int, int] = {}

    def new(self, name: str) -> int:
        """Instance-map value of a new object: ``id * 1000 + k`` for classes with instances."""
        label = NAME_TO_LABEL[name]
        if not label.has_instances:
            return label.id
        k = self._next_k.get(label.id, 0)
        self._next_k[label.id] = k + 1
        return label.id * 1000 + k

    def draw(self, fn: Callable, value: int, paint) -> None:
        """Run a cv2 drawing call ``fn(array, colour)`` on all three arrays.

        ``paint`` is an RGB colour, or an (H, W, 3) texture copied where ``fn`` draws.
        """
        if isinstance(paint, np.ndarray):
            mask = np.zeros(self.lab.shape, np.uint8)
            fn(mask, 1)
            sel = mask.astype(bool)
            self.img[sel] = paint[sel]
            self.lab[sel] = value // 1000 if value >= 1000 else value
            self.inst[sel] = value
            return
        fn(self.img, tuple(int(c) for c in paint))
        fn(self.lab, value // 1000 if value >= 1000 else value)
        fn(self.inst, value)

    def poly(self, pts, value: int, paint) -> None:
        p = [np.round(np.asarray(pts, np.float64)).astype(np.int32)]
        self.draw(lambda a, c: cv2.fillPoly(a, p, c), value, paint)

    def circle(self, center, radius: float, value: int, paint, thick: float = -1) -> None:
        c0, r = tuple(int(round(v)) for v in center), max(1, int(round(radius)))
        t = -1 if thick < 0 else max(1, int(round(thick)))
        self.draw(lambda a, c: cv2.circle(a, c0, r, c, t), value, paint)

    def ellipse(self, center, axes, value: int, paint, start: float = 0, end: float = 360) -> None:
        c0, ax = tuple(int(round(v)) for v in center), tuple(int(round(v)) for v in axes)
        self.draw(lambda a, c: cv2.ellipse(a, c0, ax, 0, start, end, c, -1), value, paint)

    def line(self, p, q, thick: float, value: int, paint) -> None:
        p0, q0 = tuple(int(round(v)) for v in p), tuple(int(round(v)) for v in q)
        t = max(1, int(round(thick)))
        self.draw(lambda a, c: cv2.line(a, p0, q0, c, t), value, paint)


class View:
    """Pinhole geometry: world (x metres right, z metres ahead, h metres up) to pixels."""

    def __init__(self, rng: np.random.Generator, height: int, width: int):
        self.h, self.w, self.u = height, width, height / 256  # u: pixel unit at 256 rows
        self.hy = height * rng.uniform(0.40, 0.47)  # horizon row
        self.vx = width * rng.uniform(0.42, 0.58)  # vanishing point column
        self.cam_h = rng.uniform(1.8, 2.2)
        self.z_bot = 5.0  # the bottom row sees the ground 5 m ahead
        self.f = self.z_bot * (height - self.hy) / self.cam_h

    def ppm(self, z: float) -> float:
        return self.f / z

    def pt(self, x: float, z: float, h: float = 0.0) -> tuple[float, float]:
        return self.vx + self.f * x / z, self.hy + self.f * (self.cam_h - h) / z

    def z_visible(self, x: float, margin: float = 0.0) -> float:
        """Nearest depth at which world column ``x`` (+/- margin metres) is inside the image."""
        room = self.vx if x < 0 else self.w - self.vx
        return max(self.z_bot * 1.05, self.f * (abs(x) + margin) / max(room, 1.0))


def texture(rng, view: View, rgb, fine: float, blotch: float, cell: float) -> np.ndarray:
    """Full-size texture: base colour + blotches ``cell`` pixels wide + fine grain."""
    h, w = view.h, view.w
    small = rng.normal(0, blotch, (int(h / cell) + 2, int(w / cell) + 2)).astype(np.float32)
    noise = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    noise += rng.normal(0, fine, (h, w)).astype(np.float32)
    base = np.asarray(pick(rng, [rgb], 10), np.float32)
    return np.clip(base + noise[..., None], 0, 255).astype(np.uint8)


def shape(cv: Canvas, view: View, x: float, z: float, value: int, paint, pts) -> None:
    """Fill a polygon given in metres (dx right of ``x``, h up) on the upright plane at ``z``."""
    cv.poly([view.pt(x + dx, z, h) for dx, h in pts], value, paint)


def box(cv: Canvas, view: View, x, z, value, paint, dx0, dx1, h0, h1) -> None:
    shape(cv, view, x, z, value, paint, [(dx0, h0), (dx1, h0), (dx1, h1), (dx0, h1)])


def darker(color: Color, by: int = 40) -> Color:
    return tuple(max(0, c - by) for c in color)


def side_plane(view: View, x: float, z1: float, z2: float, h0: float, h1: float):
    """Corners of an upright strip along the street (constant ``x``) from depth z1 to z2."""
    return [view.pt(x, z1, h0), view.pt(x, z2, h0), view.pt(x, z2, h1), view.pt(x, z1, h1)]
