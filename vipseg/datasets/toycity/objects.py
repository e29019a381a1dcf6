"""Things of the toy city: poles with signs and lights, vehicles, persons, riders, bicycles.

Pedestrians and riders wear disjoint colours (riders: high-vis and a helmet) and buses are
saturated while truck boxes are pale, so the pairs that share a shape differ locally too.
"""

from collections.abc import Callable

import numpy as np

from .canvas import Canvas, View, box, darker, pick, shape
from .poles import pole

_CARS = (
    (225, 225, 228),
    (160, 162, 168),
    (40, 40, 45),
    (35, 55, 110),
    (130, 25, 30),
    (95, 100, 105),
    (60, 90, 70),
    (190, 175, 140),
    (20, 90, 160),
)
_TRUCK_BOXES = ((235, 235, 230), (205, 210, 215), (200, 220, 235), (230, 222, 195))
_BUSES = ((240, 200, 20), (215, 50, 35), (40, 150, 80), (235, 120, 20))
_SHIRTS = (
    (40, 70, 150),
    (30, 40, 80),
    (40, 110, 70),
    (110, 60, 130),
    (120, 80, 50),
    (115, 115, 120),
    (35, 35, 40),
    (30, 120, 130),
)
_HIVIS = ((245, 120, 20), (230, 215, 30), (215, 35, 35), (170, 220, 40))
_HELMETS = ((245, 245, 245), (230, 30, 30), (250, 210, 0), (20, 20, 20))
_SKIN = ((230, 190, 160), (190, 140, 100), (130, 90, 60), (90, 60, 40))


def _car(cv: Canvas, rng, view: View, x: float, z: float) -> None:
    """A car seen from behind: body, cabin, rear window, lights, plate, wheels."""
    v, body = cv.new("car"), pick(rng, _CARS, 12)
    for s in (-1, 1):
        box(cv, view, x, z, v, (22, 22, 24), s * 0.55, s * 0.88, 0, 0.4)
    shape(
        cv,
        view,
        x,
        z,
        v,
        body,
        [(-0.92, 0.25), (0.92, 0.25), (0.95, 0.45), (0.93, 0.92), (-0.93, 0.92), (-0.95, 0.45)],
    )
    shape(
        cv,
        view,
        x,
        z,
        v,
        darker(body, 15),
        [(-0.82, 0.9), (0.82, 0.9), (0.62, 1.42), (-0.62, 1.42)],
    )
    shape(
        cv,
        view,
        x,
        z,
        v,
        pick(rng, [(40, 48, 62)], 6),
        [(-0.7, 0.97), (0.7, 0.97), (0.56, 1.35), (-0.56, 1.35)],
    )
    box(cv, view, x, z, v, (50, 50, 55), -0.93, 0.93, 0.25, 0.34)
    box(cv, view, x, z, v, (235, 232, 225), -0.25, 0.25, 0.42, 0.54)
    for s in (-1, 1):
        box(cv, view, x, z, v, (205, 28, 28), s * 0.62, s * 0.9, 0.68, 0.82)


def _truck(cv: Canvas, rng, view: View, x: float, z: float) -> None:
    """A truck from behind: a tall pale ribbed cargo box with a door seam, on dual wheels."""
    v, cargo, hgt = cv.new("truck"), pick(rng, _TRUCK_BOXES, 8), rng.uniform(3.2, 3.7)
    for s in (-1, 1):
        box(cv, view, x, z, v, (24, 24, 26), s * 0.45, s * 1.15, 0, 0.6)
    box(cv, view, x, z, v, (45, 45, 48), -1.2, 1.2, 0.35, 0.62)
    box(cv, view, x, z, v, cargo, -1.25, 1.25, 0.6, hgt)
    t = 0.06 * view.ppm(z)
    for h in np.arange(1.0, hgt - 0.2, 0.45):
        cv.line(view.pt(x - 1.25, z, h), view.pt(x + 1.25, z, h), t, v, darker(cargo, 45))
    for dx in (-0.6, 0.0, 0.6):
        cv.line(view.pt(x + dx, z, 0.6), view.pt(x + dx, z, hgt), t * 1.3, v, darker(cargo, 80))
    for s in (-1, 1):
        box(cv, view, x, z, v, (220, 60, 30), s * 0.95, s * 1.2, 0.42, 0.55)


def _bus(cv: Canvas, rng, view: View, x: float, z: float) -> None:
    """A bus from behind: saturated body, large rear window, orange destination display."""
    v, body, hgt = cv.new("bus"), pick(rng, _BUSES, 10), rng.uniform(3.0, 3.3)
    for s in (-1, 1):
        box(cv, view, x, z, v, (24, 24, 26), s * 0.7, s * 1.2, 0, 0.5)
    shape(
        cv,
        view,
        x,
        z,
        v,
        body,
        [(-1.27, 0.3), (1.27, 0.3), (1.27, hgt - 0.2), (1.1, hgt), (-1.1, hgt), (-1.27, hgt - 0.2)],
    )
    box(cv, view, x, z, v, (45, 45, 50), -1.27, 1.27, 0.3, 0.6)
    box(cv, view, x, z, v, pick(rng, [(35, 45, 60)], 6), -1.05, 1.05, 1.5, hgt - 0.5)
    box(cv, view, x, z, v, (255, 150, 20), -0.75, 0.75, hgt - 0.4, hgt - 0.12)
    for s in (-1, 1):
        box(cv, view, x, z, v, (210, 30, 30), s * 1.05, s * 1.22, 0.75, 1.3)


def _person(cv: Canvas, rng, view: View, x: float, z: float) -> None:
    """A pedestrian from the front or back: legs, torso, arms, head with hair."""
    v, h, stride = cv.new("person"), rng.uniform(1.6, 1.9), rng.uniform(-0.08, 0.08)
    shirt, skin = pick(rng, _SHIRTS, 12), pick(rng, _SKIN, 8)
    pants = pick(rng, [(40, 45, 70), (35, 35, 38), (90, 90, 95), (160, 140, 110)], 8)
    for s in (-1, 1):
        shape(
            cv,
            view,
            x,
            z,
            v,
            pants,
            [
                (s * 0.02, 0.5 * h),
                (s * 0.17, 0.5 * h),
                (s * (0.16 + stride), 0),
                (s * (0.03 + stride), 0),
            ],
        )
        shape(
            cv,
            view,
            x,
            z,
            v,
            darker(shirt, 20),
            [(s * 0.19, 0.5 * h), (s * 0.27, 0.5 * h), (s * 0.29, 0.8 * h), (s * 0.21, 0.81 * h)],
        )
    shape(
        cv,
        view,
        x,
        z,
        v,
        shirt,
        [(-0.18, 0.47 * h), (0.18, 0.47 * h), (0.22, 0.82 * h), (-0.22, 0.82 * h)],
    )
    p = view.ppm(z)
    cv.circle(view.pt(x, z, 0.915 * h), 0.12 * p, v, pick(rng, [(40, 30, 20), (110, 75, 40)], 10))
    cv.circle(view.pt(x, z, 0.9 * h), 0.1 * p, v, skin)


def _bicycle(cv: Canvas, rng, view: View, x: float, z: float, facing: int, v: int) -> None:
    """A bicycle from the side: spoked wheels with dark tyres and a coloured frame."""
    p, u = view.ppm(z), view.u

    def at(dx: float, h: float) -> tuple[float, float]:
        return view.pt(x + facing * dx, z, h)

    for dx in (-0.53, 0.53):
        cv.circle(at(dx, 0.34), 0.34 * p, v, (118, 118, 124))
        cv.circle(at(dx, 0.34), 0.31 * p, v, (20, 20, 22), thick=max(0.07 * p, 1.5 * u))
    frame, t = (
        pick(rng, ((30, 30, 30), (180, 30, 30), (30, 80, 160), (200, 200, 200)), 15),
        0.06 * p,
    )
    joints = (
        [(-0.53, 0.34), (-0.12, 0.92), (0.0, 0.3), (-0.53, 0.34)],
        [(-0.12, 0.92), (0.42, 0.9), (0.53, 0.34)],
    )
    joints += ([(0.0, 0.3), (0.42, 0.9), (0.4, 1.04), (0.3, 1.05)],)
    for chain in joints:
        for a, b in zip(chain, chain[1:]):
            cv.line(at(*a), at(*b), max(t, 1.5 * u), v, frame)
    cv.line(at(-0.22, 0.96), at(-0.02, 0.96), max(0.07 * p, 1.5 * u), v, (25, 25, 25))  # saddle


def _rider(cv: Canvas, rng, view: View, x: float, z: float) -> None:
    """A cyclist: 'bicycle' pixels, then the 'rider' (high-vis jacket, helmet) on top."""
    facing, vb, vr, p = rng.choice((-1, 1)), cv.new("bicycle"), cv.new("rider"), view.ppm(z)
    _bicycle(cv, rng, view, x, z, facing, vb)
    jacket, helmet = pick(rng, _HIVIS, 10), pick(rng, _HELMETS, 8)

    def at(dx: float, h: float) -> tuple[float, float]:
        return view.pt(x + facing * dx, z, h)

    pants = pick(rng, [(30, 30, 35)], 6)
    cv.line(at(-0.15, 1.0), at(0.14, 0.72), 0.16 * p, vr, pants)
    cv.line(at(0.14, 0.72), at(0.02, 0.32), 0.14 * p, vr, pants)
    cv.line(at(-0.12, 1.02), at(0.16, 1.48), 0.34 * p, vr, jacket)
    cv.line(at(0.18, 1.45), at(0.38, 1.05), 0.11 * p, vr, darker(jacket, 20))
    cv.circle(at(0.26, 1.74), 0.14 * p, vr, helmet)
    cv.circle(at(0.31, 1.67), 0.09 * p, vr, pick(rng, _SKIN, 8))


def _parked_bicycle(cv: Canvas, rng, view: View, x: float, z: float) -> None:
    _bicycle(cv, rng, view, x, z, rng.choice((-1, 1)), cv.new("bicycle"))


def scene_objects(rng, view: View, st: dict) -> list[tuple[float, Callable, tuple]]:
    """Poles, vehicles, persons, riders and parked bicycles as (depth, draw, args), unsorted.

    Poles carry at least one sign and one light, and persons, riders and bicycles come in
    every image, so every split has every class; trucks and buses are in about half.
    """
    left, right = -st["road_l"], st["road_r"]
    lanes = ((left + st["lane"]) / 2, (st["lane"] + right) / 2, left + 1.1, right - 1.1)

    def walk_x(lo: float, hi: float) -> float:  # between lo and hi of a random sidewalk's width
        side = rng.choice((-1, 1))
        road, walk = (st["road_r"], st["side_r"]) if side > 0 else (st["road_l"], st["side_l"])
        return side * (road + rng.uniform(lo, hi) * walk)

    def depth(x: float, zmax: float, margin: float = 0.5) -> float:  # visible, not too far
        z0 = max(view.z_visible(x, margin), 6.0)
        return rng.uniform(z0, max(zmax, z0 + 2))

    out = []
    extra = rng.integers(0, 3)
    for kind in ["sign", "light"] + [
        str(rng.choice(["sign", "light", "both"])) for _ in range(extra)
    ]:
        x = walk_x(0.1, 0.2)
        out.append((depth(x, 26), pole, (x, kind)))
    for _ in range(rng.integers(2, 5)):
        x = rng.choice(lanes) + rng.normal(0, 0.2)
        out.append((depth(x, 34, 1.0), _car, (x,)))
    for draw in (_truck, _bus):
        if rng.random() < 0.55:
            out.append((rng.uniform(13, 30), draw, (rng.choice(lanes[:2]) + rng.normal(0, 0.2),)))
    for _ in range(rng.integers(2, 6)):
        x = walk_x(0.25, 0.85)
        out.append((depth(x, 24), _person, (x,)))
    for _ in range(rng.integers(1, 3)):
        x = rng.choice((left + 0.7, right - 0.7))
        out.append((depth(x, 22, 1.0), _rider, (x,)))
    for _ in range(rng.integers(1, 3)):
        x = walk_x(0.7, 0.85)
        out.append((depth(x, 20, 1.0), _parked_bicycle, (x,)))
    return out
