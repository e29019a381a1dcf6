"""Static scenery of the toy city: sky, facades, ground, roadside trees, walls, fences."""

import cv2
import numpy as np

from ..cityscapes_labels import NAME_TO_LABEL
from .canvas import Canvas, View, darker, pick, side_plane, texture

_FACADES = ((186, 160, 128), (158, 92, 72), (128, 116, 104), (205, 188, 158), (150, 128, 100))


def sky_and_buildings(cv: Canvas, rng, view: View) -> None:
    """A vertical sky gradient with clouds, then a row of facades standing on the horizon."""
    hy, w, u = int(round(view.hy)), view.w, view.u
    top, low = np.array(pick(rng, [(55, 105, 190)])), np.array(pick(rng, [(165, 200, 235)]))
    t = np.linspace(0, 1, hy)[:, None, None]
    cv.img[:hy] = (top * (1 - t) + low * t).astype(np.uint8)
    cv.lab[:hy] = cv.inst[:hy] = NAME_TO_LABEL["sky"].id
    for _ in range(rng.integers(0, 4)):
        c, axes = (rng.uniform(0, w), rng.uniform(0, hy * 0.5)), (rng.uniform(20, 60) * u, 8 * u)
        cv.ellipse(c, axes, NAME_TO_LABEL["sky"].id, pick(rng, [(235,) * 3]))
    x, building = rng.uniform(-0.1, 0) * w, NAME_TO_LABEL["building"].id
    while x < w:
        bw = rng.uniform(0.08, 0.22) * w
        if rng.random() < 0.12:  # a gap shows sky down to the horizon
            x += bw * 0.5
            continue
        top_y, wall = rng.uniform(0.05, 0.7) * hy, pick(rng, _FACADES, 16)
        cv.poly([(x, top_y), (x + bw, top_y), (x + bw, hy + 1), (x, hy + 1)], building, wall)
        sx, sy = rng.uniform(11, 16) * u, rng.uniform(12, 17) * u  # window pitch
        glass = pick(rng, [(50, 62, 85)], 10)
        for wy in np.arange(top_y + sy * 0.5, hy - sy * 0.6, sy):
            for wx in np.arange(x + sx * 0.4, x + bw - sx * 0.9, sx):
                lit = pick(rng, [(215, 200, 140)]) if rng.random() < 0.1 else glass
                cv.poly(
                    [
                        (wx, wy),
                        (wx + sx * 0.55, wy),
                        (wx + sx * 0.55, wy + sy * 0.6),
                        (wx, wy + sy * 0.6),
                    ],
                    building,
                    lit,
                )
        x += bw


def ground(cv: Canvas, rng, view: View) -> dict:
    """Terrain everywhere below the horizon, then sidewalks and the road with lane marks."""
    st = dict(road_l=rng.uniform(3.0, 4.2), road_r=rng.uniform(3.0, 4.2), lane=rng.uniform(-1, 1))
    st.update(side_l=rng.uniform(2.6, 3.6), side_r=rng.uniform(2.6, 3.6))
    hy, far, near = view.hy, 1e4, view.z_bot * 0.3
    left, right = -st["road_l"], st["road_r"]
    outer_l, outer_r = left - st["side_l"], right + st["side_r"]
    ground = [(0, hy), (view.w, hy), (view.w, view.h), (0, view.h)]
    cv.poly(ground, NAME_TO_LABEL["terrain"].id, texture(rng, view, (125, 165, 70), 9, 12, 24))
    paving = texture(rng, view, (182, 166, 160), 6, 5, 30)
    joint = tuple(int(c) for c in np.median(paving, axis=(0, 1)) - 45)  # grout of a tile grid
    for z in np.geomspace(near, 40, 60):
        for a, b in ((outer_l, left), (right, outer_r)):
            p, q = view.pt(a, z), view.pt(b, z)
            cv2.line(paving, tuple(map(int, p)), tuple(map(int, q)), joint, 1)
    for x in np.r_[np.arange(left, outer_l, -0.9), np.arange(right, outer_r, 0.9)]:
        p, q = view.pt(x, far), view.pt(x, near)
        cv2.line(paving, tuple(map(int, p)), tuple(map(int, q)), joint, 1)
    walk = [
        view.pt(outer_l, far),
        view.pt(outer_r, far),
        view.pt(outer_r, near),
        view.pt(outer_l, near),
    ]
    walk_id = NAME_TO_LABEL["sidewalk"].id
    cv.poly(walk, walk_id, paving)
    road, curb = NAME_TO_LABEL["road"].id, pick(rng, [(205, 200, 195)], 8)
    for a, b in ((left - 0.25, left), (right, right + 0.25)):  # bright curbstones
        cv.poly(
            [view.pt(a, far), view.pt(b, far), view.pt(b, near), view.pt(a, near)], walk_id, curb
        )
    asphalt = texture(rng, view, (88, 88, 94), 8, 6, 10)
    cv.poly(
        [view.pt(left, far), view.pt(right, far), view.pt(right, near), view.pt(left, near)],
        road,
        asphalt,
    )
    paint, lane = pick(rng, [(228, 228, 218)], 6), st["lane"]
    for z0 in np.arange(near + rng.uniform(0, 9), 80, 9.0):  # dashed centre line, still road
        z1, a, b = z0 + 3.5, lane - 0.08, lane + 0.08
        cv.poly([view.pt(a, z0), view.pt(b, z0), view.pt(b, z1), view.pt(a, z1)], road, paint)
    return st


def _wall(cv: Canvas, rng, view: View, x: float, z1: float, z2: float, veg) -> None:
    """Concrete wall: blue-grey blocks with joints and a light coping."""
    v, hgt = NAME_TO_LABEL["wall"].id, rng.uniform(1.2, 2.2)
    color = pick(rng, [(158, 158, 180)], 10)
    cv.poly(side_plane(view, x, z1, z2, 0, hgt), v, color)
    cv.poly(side_plane(view, x, z1, z2, hgt - 0.15, hgt), v, darker(color, -35))
    t = 0.05 * view.ppm(z1)
    for z in np.arange(z1 + 2.0, z2, 2.0):
        cv.line(view.pt(x, z), view.pt(x, z, hgt), t * z1 / z, v, darker(color))
    for h in (hgt / 3, 2 * hgt / 3):
        cv.line(view.pt(x, z1, h), view.pt(x, z2, h), t, v, darker(color))


def _fence(cv: Canvas, rng, view: View, x: float, z1: float, z2: float, veg) -> None:
    """Wooden fence: light planks over dark gaps, with two rails."""
    v, hgt = NAME_TO_LABEL["fence"].id, rng.uniform(1.0, 1.6)
    plank = pick(rng, [(170, 122, 76)], 12)
    cv.poly(side_plane(view, x, z1, z2, 0, hgt), v, darker(plank, 70))
    for z in np.arange(z1 + 0.08, z2, 0.2):
        cv.line(view.pt(x, z, 0.02), view.pt(x, z, hgt), 0.12 * view.ppm(z), v, plank)
    for h in (0.25 * hgt, 0.75 * hgt):
        cv.line(view.pt(x, z1, h), view.pt(x, z2, h), 0.08 * view.ppm(z1), v, darker(plank, 30))


def _hedge(cv: Canvas, rng, view: View, x: float, z1: float, z2: float, veg) -> None:
    """Hedge: a vegetation strip with a bumpy top."""
    v, hgt = NAME_TO_LABEL["vegetation"].id, rng.uniform(0.9, 1.5)
    bumps = [(view.pt(x, z, hgt), 0.35 * view.ppm(z)) for z in np.arange(z1, z2, 0.7)]
    strip = [np.round(side_plane(view, x, z1, z2, 0, hgt)).astype(np.int32)]

    def fn(a, c):
        cv2.fillPoly(a, strip, c)
        for (cx, cy), r in bumps:
            cv2.circle(a, (int(cx), int(cy)), max(1, int(r)), c, -1)

    cv.draw(fn, v, veg)


def _tree(cv: Canvas, rng, view: View, x: float, z: float, veg) -> None:
    """Tree: a trunk and a crown of overlapping leafy discs (all 'vegetation', as Cityscapes)."""
    v, p = NAME_TO_LABEL["vegetation"].id, view.ppm(z)
    cv.line(view.pt(x, z), view.pt(x, z, 3.0), max(0.28 * p, 2), v, pick(rng, [(92, 66, 44)]))
    crown = [
        (view.pt(x + rng.normal(0, 0.7), z, 3.6 + rng.normal(0, 0.5)), rng.uniform(0.9, 1.5) * p)
        for _ in range(rng.integers(5, 9))
    ]

    def fn(a, c):
        for (cx, cy), r in crown:
            cv2.circle(a, (int(cx), int(cy)), max(1, int(r)), c, -1)

    cv.draw(fn, v, veg)


def roadside(cv: Canvas, rng, view: View, st: dict, veg) -> None:
    """Trees on the terrain, then hedges, walls and fences along the sidewalks' outer edges.

    The nearest segments (largest in the image) get a wall and a fence in most images, so
    every split contains both.
    """
    drawers = {"wall": _wall, "fence": _fence, "hedge": _hedge, "none": None}
    for _ in range(rng.integers(2, 6)):
        side = rng.choice((-1, 1))
        x = side * (st["road_r" if side > 0 else "road_l"] + st["side_r" if side > 0 else "side_l"])
        x += side * rng.uniform(1.0, 4.0)
        _tree(cv, rng, view, x, rng.uniform(view.z_visible(x, 1.5), 42), veg)
    near = [k if rng.random() < 0.85 else "hedge" for k in ("wall", "fence")]
    near += [rng.choice(["hedge", "none", "wall", "fence"]), "hedge"]
    rng.shuffle(near)
    for i, side in enumerate((-1, 1)):
        x = side * (st["road_r" if side > 0 else "road_l"] + st["side_r" if side > 0 else "side_l"])
        x += side * 0.05
        z, segments = view.z_visible(x), []
        while z < 45:
            segments.append((z, z + rng.uniform(5, 14)))
            z = segments[-1][1]
        for j, (z1, z2) in reversed(list(enumerate(segments))):
            kind = near[2 * i + j] if j < 2 else rng.choice(["hedge", "none", "wall", "fence"])
            if drawers[kind] is not None:
                drawers[kind](cv, rng, view, x, z1, z2, veg)
