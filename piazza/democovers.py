"""Draw the demo site's covers (content/images/covers/*.jpg) with Pillow.

Officine Ardesia builds motorcycles in Lovere, on Lake Iseo; its colour is
the grey of the local slate roofs, with a rust accent. Each demo post gets a
cover of its own: lake landscapes, the three motorcycles (the Sebino 800
roadster, the Corna Trentapassi adventure bike, the electric Lampo E), the
workshop, the factory yard, a mountain pass. Nothing is downloaded: every
shape is drawn here, with a fixed random seed, so a run gives the same files.

    .venv/bin/python -m piazza.democovers          # writes content/images/covers/
    .venv/bin/python -m piazza.democovers --out DIR

The script lives outside content/ so Pelican never publishes it.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

W, H = 1600, 900
SS = 2  # drawn at twice the size, then reduced: smooth edges without AA support
QUALITY = 78

SLATE_900 = (31, 37, 41)
SLATE_800 = (47, 58, 69)
SLATE_700 = (62, 74, 85)
SLATE_600 = (93, 113, 133)
SLATE_500 = (125, 145, 163)
SLATE_400 = (159, 176, 190)
SLATE_200 = (214, 222, 229)
RUST = (138, 59, 18)
RUST_LIGHT = (200, 98, 42)
CREAM = (251, 250, 247)
STEEL = (170, 178, 184)
VOLT = (120, 210, 200)  # the Lampo E's accent

Colour = tuple[int, ...]
Point = tuple[float, float]


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """The colour a fraction ``t`` of the way from ``a`` to ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=False))


def alpha(c: Colour, a: int) -> Colour:
    return (*c[:3], a)


class Canvas:
    """A 1600x900 picture drawn in its own coordinates at ``SS`` times the size."""

    def __init__(self, top: Colour, bottom: Colour) -> None:
        self.image = Image.new("RGB", (W * SS, H * SS))
        self.draw = ImageDraw.Draw(self.image, "RGBA")
        self.gradient((0, 0, W, H), top, bottom)

    @staticmethod
    def _s(points) -> list[tuple[float, float]]:
        return [(x * SS, y * SS) for x, y in points]

    def gradient(self, box, top: Colour, bottom: Colour, vertical=True) -> None:
        x0, y0, x1, y1 = (round(v * SS) for v in box)
        size = (max(1, x1 - x0), max(1, y1 - y0))
        mask = Image.linear_gradient("L")
        if not vertical:
            mask = mask.rotate(90, expand=True).transpose(
                Image.Transpose.FLIP_LEFT_RIGHT
            )
        mask = mask.resize(size)
        band = Image.composite(
            Image.new("RGB", size, bottom[:3]), Image.new("RGB", size, top[:3]), mask
        )
        self.image.paste(band, (x0, y0))

    def glow(self, centre: Point, radius: float, colour: Colour, strength=200) -> None:
        """A soft round light (the sun, a lamp, a spotlight's pool)."""
        r = round(radius * SS)
        mask = Image.radial_gradient("L").resize((2 * r, 2 * r))
        # the gradient reaches 181 at the middle of an edge, 255 in the corners
        mask = mask.point(lambda v: round(strength * max(0.0, 1 - v / 181) ** 1.6))
        x, y = round(centre[0] * SS) - r, round(centre[1] * SS) - r
        self.image.paste(Image.new("RGB", (2 * r, 2 * r), colour[:3]), (x, y), mask)

    def poly(self, points, fill: Colour) -> None:
        self.draw.polygon(self._s(points), fill=fill)

    def rect(self, box, fill: Colour, radius: float = 0) -> None:
        x0, y0, x1, y1 = box
        self.draw.rounded_rectangle(
            (x0 * SS, y0 * SS, x1 * SS, y1 * SS), radius=radius * SS, fill=fill
        )

    def circle(self, centre: Point, r: float, fill=None, outline=None, width=0) -> None:
        x, y = centre
        self.draw.ellipse(
            ((x - r) * SS, (y - r) * SS, (x + r) * SS, (y + r) * SS),
            fill=fill,
            outline=outline,
            width=round(width * SS),
        )

    def line(self, points, fill: Colour, width: float) -> None:
        self.draw.line(
            self._s(points), fill=fill, width=round(width * SS), joint="curve"
        )
        for x, y in (points[0], points[-1]):  # round caps
            self.circle((x, y), width / 2, fill=fill)

    def blur(self, radius: float) -> None:
        """Soften what was drawn so far (distance, haze)."""
        self.image = self.image.filter(ImageFilter.GaussianBlur(radius * SS))
        self.draw = ImageDraw.Draw(self.image, "RGBA")

    def save(self, path: Path) -> None:
        small = self.image.resize((W, H), Image.Resampling.LANCZOS)
        path.parent.mkdir(parents=True, exist_ok=True)
        small.save(path, "JPEG", quality=QUALITY, optimize=True, progressive=True)


# -- Landscape pieces ---------------------------------------------------------


def ridge(rng: random.Random, base: float, height: float, peaks: int) -> list[Point]:
    """A mountain skyline from left to right, closed down to ``base``."""
    points: list[Point] = [(-20, base)]
    step = (W + 40) / peaks
    for i in range(peaks + 1):
        x = -20 + i * step + rng.uniform(-step / 4, step / 4)
        y = base - height * rng.uniform(0.35, 1.0)
        points.append((x, y))
        if i < peaks:  # a shoulder between peaks
            points.append((x + step / 2, base - height * rng.uniform(0.15, 0.5)))
    points.append((W + 20, base))
    return points


def mountains(c: Canvas, rng, horizon: float, colours: list[Colour], height=260.0):
    """Layers of mountains, the far ones paler and higher, down to ``horizon``."""
    for i, colour in enumerate(colours):
        h = height * (1 - 0.22 * i)
        c.poly(ridge(rng, horizon + 2, h, 5 + 2 * i), colour)


def lake(  # noqa: PLR0917 (drawing calls read as coordinates)
    c: Canvas, rng, horizon: float, top: Colour, bottom: Colour, bottom_y=H
):
    c.gradient((0, horizon, W, bottom_y), top, bottom)
    for _ in range(60):  # light on the water
        y = rng.uniform(horizon + 8, bottom_y - 10)
        depth = (y - horizon) / (bottom_y - horizon)
        x = rng.uniform(0, W)
        length = 30 + 120 * depth
        c.line(
            [(x, y), (x + length, y)], alpha(CREAM, 40 + int(50 * depth)), 2 + 3 * depth
        )


def sun(c: Canvas, centre: Point, r: float, colour: Colour, halo: Colour) -> None:
    c.glow(centre, r * 4, halo, strength=150)
    c.circle(centre, r, fill=colour)


# -- Motorcycles ----------------------------------------------------------------


def bike(  # noqa: PLR0917 (drawing calls read as coordinates)
    c: Canvas,
    x: float,
    ground: float,
    scale: float = 1.0,
    kind: str = "roadster",
    body: Colour = SLATE_700,
    facing: int = 1,
    silhouette: Colour | None = None,
) -> None:
    """A motorcycle seen from the side, rear wheel at ``x``, tyres on ``ground``.

    ``kind``: "roadster" (Sebino 800), "adventure" (Corna Trentapassi),
    "electric" (Lampo E), "short" (the short-wheelbase Trentapassi).
    ``silhouette`` draws every part in one colour (against the light).
    """
    tall = kind in {"adventure", "short"}
    r = (66 if tall else 60) * scale
    wb = {"short": 4.1, "adventure": 4.6, "electric": 4.3}.get(kind, 4.4) * r

    def p(u: float, v: float) -> Point:  # bike units: u along, v up, in wheel radii
        return (x + facing * u * wb, ground - v * r)

    tyre = silhouette or SLATE_900
    metal = silhouette or STEEL
    dark = silhouette or SLATE_800
    paint = silhouette or body

    for hub in (p(0, 1), p(1, 1)):
        c.circle(hub, r, outline=tyre, width=0.24 * r)
        c.circle(hub, 0.76 * r, outline=silhouette or SLATE_600, width=0.05 * r)
        if tall and not silhouette:
            for k in range(12):
                a = k * math.pi / 6
                c.line(
                    [
                        hub,
                        (
                            hub[0] + 0.74 * r * math.cos(a),
                            hub[1] + 0.74 * r * math.sin(a),
                        ),
                    ],
                    metal,
                    0.025 * r,
                )
        c.circle(hub, 0.15 * r, fill=metal)

    lift = 0.35 if tall else 0.0
    head = p(0.8, 2.55 + lift)
    pivot = p(0.33, 1.35 + lift / 2)
    c.line([p(0, 1), pivot], dark, 0.16 * r)  # swingarm
    c.line([p(0.32, 1.4 + lift / 2), p(0.1, 2.2 + lift)], metal, 0.09 * r)  # shock
    c.line([p(1, 1), head], metal, 0.14 * r)  # fork
    if kind == "electric":
        c.rect(
            _box(p(0.34, 0.85 + lift), p(0.7, 1.95 + lift)),
            silhouette or SLATE_800,
            radius=0.12 * r,
        )
        c.rect(
            _box(p(0.37, 1.25 + lift), p(0.67, 1.5 + lift)),
            silhouette or VOLT,
            radius=0.05 * r,
        )
    else:
        c.rect(
            _box(p(0.3, 0.75 + lift), p(0.64, 1.95 + lift)),
            silhouette or (92, 100, 108),
            radius=0.15 * r,
        )
        for k in range(4):  # cooling fins
            yy = 1.0 + lift + k * 0.2
            c.line([p(0.36, yy), p(0.6, yy)], silhouette or (120, 128, 135), 0.04 * r)
        exhaust = [p(0.45, 0.75 + lift), p(0.2, 0.9 + lift), p(-0.05, 1.55 + lift)]
        c.line(exhaust, metal, 0.13 * r)
    # trellis frame: the steering head to the pivot, in triangles
    top_rail = [head, p(0.3, 2.15 + lift)]
    c.line(top_rail, paint if kind == "roadster" else dark, 0.07 * r)
    for u in (0.42, 0.55, 0.68):
        c.line(
            [p(u, 2.2 + lift), p(u - 0.08, 1.6 + lift)],
            silhouette or RUST if kind == "roadster" else dark,
            0.05 * r,
        )
    # side panel, tank, seat, tail
    for points, fill in (
        (
            [(0.12, 2.3), (0.44, 2.2), (0.38, 1.6), (0.22, 1.75)],
            silhouette or SLATE_800,
        ),
        ([(0.4, 2.15), (0.45, 2.8), (0.72, 2.92), (0.84, 2.5), (0.74, 2.05)], paint),
        (
            [(0.08, 2.3), (0.44, 2.32), (0.44, 2.5), (0.12, 2.55)],
            silhouette or SLATE_900,
        ),
        ([(-0.1, 2.5), (0.1, 2.25), (0.16, 2.5), (0.02, 2.68)], paint),
    ):
        c.poly([p(u, v + lift) for u, v in points], fill)
    # bars, lamp
    c.line(
        [head, p(0.76, 3.05 + lift), p(0.68, 3.15 + lift)],
        silhouette or SLATE_900,
        0.07 * r,
    )
    c.circle(p(0.88, 2.6 + lift), 0.22 * r, fill=silhouette or (236, 232, 214))
    if tall:  # windscreen, beak mudguard
        c.poly(
            [
                p(0.84, 2.85 + lift),
                p(0.8, 3.6 + lift),
                p(0.9, 3.55 + lift),
                p(0.93, 2.8 + lift),
            ],
            silhouette or alpha(SLATE_200, 170),
        )
        c.poly([p(0.88, 2.2 + lift), p(1.12, 2.05 + lift), p(0.95, 2.35 + lift)], paint)
    else:
        c.poly(
            [p(0.84, 2.12), p(1.1, 2.12), p(1.18, 1.95), p(1.1, 2.04), p(0.86, 2.04)],
            paint,
        )
    if kind == "adventure":  # panniers
        c.rect(
            _box(p(-0.22, 1.55 + lift), p(0.2, 2.35 + lift)),
            silhouette or SLATE_800,
            radius=0.1 * r,
        )
        c.line(
            [p(-0.2, 2.0 + lift), p(0.18, 2.0 + lift)],
            silhouette or SLATE_600,
            0.04 * r,
        )


def _box(a: Point, b: Point) -> tuple[float, float, float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def envelope(  # noqa: PLR0917 (drawing calls read as coordinates)
    c: Canvas,
    x: float,
    y: float,
    w: float,
    h: float,
    paper: Colour,
    ink: Colour,
    tilt: float = 0,
):
    """A letter seen from the back, its flap a V; ``tilt`` in radians."""
    cx, cy = x + w / 2, y + h / 2

    def rot(px: float, py: float) -> Point:
        dx, dy = px - cx, py - cy
        return (
            cx + dx * math.cos(tilt) - dy * math.sin(tilt),
            cy + dx * math.sin(tilt) + dy * math.cos(tilt),
        )

    corners = [rot(x, y), rot(x + w, y), rot(x + w, y + h), rot(x, y + h)]
    shadow = [(px + 8, py + 10) for px, py in corners]
    c.poly(shadow, (0, 0, 0, 50))
    c.poly(corners, paper)
    c.line([rot(x, y), rot(cx, y + h * 0.55), rot(x + w, y)], ink, 3)
    c.line([rot(x, y + h), rot(cx - w * 0.08, y + h * 0.5)], alpha(ink, 90), 2)
    c.line([rot(x + w, y + h), rot(cx + w * 0.08, y + h * 0.5)], alpha(ink, 90), 2)


def shed(  # noqa: PLR0917 (drawing calls read as coordinates)
    c: Canvas,
    x: float,
    base: float,
    w: float,
    h: float,
    teeth: int,
    wall: Colour,
    roof: Colour,
    windows: Colour,
):
    """A factory hall with a sawtooth roof."""
    c.rect((x, base - h, x + w, base), wall)
    tooth = w / teeth
    for i in range(teeth):
        x0 = x + i * tooth
        c.poly(
            [
                (x0, base - h),
                (x0 + tooth, base - h),
                (x0 + tooth, base - h - tooth * 0.55),
            ],
            roof,
        )
        c.poly(
            [
                (x0 + tooth * 0.78, base - h - tooth * 0.43),
                (x0 + tooth, base - h - tooth * 0.55),
                (x0 + tooth, base - h),
            ],
            windows,
        )
    for i in range(int(w // 70)):
        wx = x + 25 + i * 70
        c.rect((wx, base - h * 0.72, wx + 40, base - h * 0.35), windows, radius=3)


def people(  # noqa: PLR0917 (drawing calls read as coordinates)
    c: Canvas, rng, count: int, y0: float, y1: float, x0=0.0, x1=float(W), palette=None
):
    """A crowd: heads and shoulders, smaller further away."""
    palette = palette or [
        SLATE_800,
        RUST,
        SLATE_600,
        (70, 90, 70),
        (160, 120, 60),
        SLATE_900,
    ]
    spots = sorted((rng.uniform(y0, y1), rng.uniform(x0, x1)) for _ in range(count))
    for y, x in spots:
        s = 0.5 + 0.9 * (y - y0) / max(1, y1 - y0)
        c.rect(
            (x - 14 * s, y - 10 * s, x + 14 * s, y + 30 * s),
            rng.choice(palette),
            radius=10 * s,
        )
        c.circle(
            (x, y - 20 * s),
            9 * s,
            fill=rng.choice([(224, 188, 160), (190, 140, 105), (140, 100, 75)]),
        )


# -- One scene per post -----------------------------------------------------------


def letters_by_the_lake(c: Canvas, rng) -> None:
    """Why this blog: grandfather Ercole's letters, his office over the lake."""
    sun(c, (1180, 330), 46, (255, 226, 170), (255, 180, 110))
    mountains(c, rng, 470, [(150, 142, 160), (110, 108, 130), SLATE_700], 230)
    lake(c, rng, 470, (200, 160, 150), SLATE_600, 640)
    c.gradient((0, 620, W, H), (120, 82, 56), (86, 56, 38))  # the desk
    c.rect((0, 610, W, 632), (70, 45, 30))
    c.rect((0, 0, 60, 640), SLATE_900)  # window frame
    c.rect((W - 60, 0, W, 640), SLATE_900)
    c.rect((0, 0, W, 40), SLATE_900)
    c.rect((W / 2 - 14, 0, W / 2 + 14, 630), SLATE_900)
    for i in range(7):
        envelope(
            c,
            260 + i * 95 + rng.uniform(-40, 40),
            640 + rng.uniform(0, 110),
            300,
            180,
            mix(CREAM, (235, 220, 190), rng.random()),
            SLATE_600,
            rng.uniform(-0.25, 0.25),
        )
    c.circle((1300, 760), 60, fill=RUST)  # a wax seal on the last one
    c.circle((1300, 760), 40, outline=RUST_LIGHT, width=5)


def sebino_on_the_lake(c: Canvas, rng) -> None:
    """The Sebino 800 at ten: the roadster on the lakeside road."""
    sun(c, (380, 250), 55, (255, 246, 220), (255, 230, 190))
    mountains(c, rng, 520, [SLATE_400, SLATE_500, SLATE_600], 300)
    lake(c, rng, 520, SLATE_400, SLATE_600, 700)
    c.rect((0, 700, W, H), (58, 62, 66))  # road
    c.rect((0, 690, W, 706), (180, 180, 172))
    for i in range(9):
        c.rect((40 + i * 190, 800, 140 + i * 190, 812), (230, 226, 210))
    bike(c, 420, 790, 2.1, "roadster", SLATE_700)


def lampo_on_the_bench(c: Canvas, rng) -> None:
    """Lampo E, the prototype: the electric bike on the workshop bench."""
    c.gradient((0, 0, W, 640), (36, 46, 56), (52, 64, 76))
    for gx in range(40, W, 40):  # pegboard
        for gy in range(40, 600, 40):
            c.circle((gx, gy), 3, fill=(30, 38, 46))
    for i, (tx, length) in enumerate(
        [(220, 160), (300, 120), (370, 190), (1250, 140), (1320, 170), (1400, 110)]
    ):
        c.line([(tx, 120), (tx, 120 + length)], STEEL if i % 2 else SLATE_400, 10)
        c.circle((tx, 120 + length), 14, outline=STEEL, width=5)
    c.gradient((0, 640, W, H), (88, 96, 104), (58, 64, 70))  # floor
    c.rect((380, 560, 1220, 600), (120, 84, 52), radius=4)  # the bench top
    c.rect((420, 600, 450, 760), SLATE_900)
    c.rect((1150, 600, 1180, 760), SLATE_900)
    c.glow((800, 420), 420, VOLT, strength=70)
    bike(c, 560, 560, 1.25, "electric", (225, 230, 232))
    bolt = [
        (1320, 330),
        (1255, 470),
        (1305, 470),
        (1260, 600),
        (1380, 420),
        (1325, 420),
        (1370, 330),
    ]
    c.poly(bolt, VOLT)


def the_letter(c: Canvas, rng) -> None:
    """Giovanni's letter, and a longer warranty: an envelope and a shield."""
    c.glow((800, 450), 700, SLATE_500, strength=110)
    for _ in range(26):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        c.line([(x, y), (x + rng.uniform(60, 200), y)], alpha(SLATE_400, 45), 3)
    envelope(c, 330, 260, 620, 390, CREAM, SLATE_600, -0.06)
    for k in range(4):
        y = 440 + k * 34
        c.line([(460, y), (800 - k * 40, y - 25)], alpha(SLATE_500, 150), 5)
    shield = [
        (1180, 230),
        (1390, 290),
        (1370, 520),
        (1180, 660),
        (990, 520),
        (970, 290),
    ]
    c.poly([(px + 10, py + 14) for px, py in shield], (0, 0, 0, 70))
    c.poly(shield, RUST)
    inner = [
        (1180, 270),
        (1350, 318),
        (1334, 505),
        (1180, 620),
        (1026, 505),
        (1010, 318),
    ]
    c.poly(inner, RUST_LIGHT)
    c.line([(1090, 445), (1160, 515), (1290, 365)], CREAM, 34)


def factory_day(c: Canvas, rng) -> None:
    """The open factory day: the yard full of motorcycles and people."""
    mountains(c, rng, 380, [SLATE_400, SLATE_500], 200)
    shed(c, 120, 520, 1360, 180, 8, (196, 190, 178), SLATE_700, (120, 150, 170))
    for i in range(14):  # bunting
        x0 = 130 + i * 98
        c.poly(
            [(x0, 340), (x0 + 70, 346), (x0 + 35, 400)], [RUST, CREAM, SLATE_600][i % 3]
        )
    c.line([(110, 338), (1500, 350)], SLATE_900, 3)
    c.gradient((0, 520, W, H), (150, 146, 138), (112, 108, 102))  # the yard
    for row, (ground, scale) in enumerate([(610, 0.45), (690, 0.58), (790, 0.72)]):
        for k in range(8 - row):
            x = 60 + k * (200 + 40 * row) + (row % 2) * 60 + rng.uniform(-15, 15)
            bike(
                c,
                x,
                ground,
                scale,
                rng.choice(["roadster", "adventure"]),
                rng.choice([SLATE_700, SLATE_600, RUST, SLATE_800]),
            )
    people(c, rng, 26, 760, 880, palette=[SLATE_900, RUST, SLATE_600, (60, 80, 64)])


def racing_season(c: Canvas, rng) -> None:
    """The racing department's season: a rally bike over a crest, dust behind."""
    sun(c, (1300, 200), 60, (255, 244, 214), (255, 214, 150))
    mountains(c, rng, 560, [SLATE_400, (140, 150, 130)], 220)
    c.poly(
        [(0, 900), (0, 640), (500, 560), (900, 600), (1600, 700), (1600, 900)],
        (150, 118, 82),
    )
    c.poly([(0, 900), (0, 760), (700, 660), (1600, 800), (1600, 900)], (120, 92, 62))
    for k in range(14):  # dust
        c.circle(
            (380 - k * 26 + rng.uniform(-20, 20), 560 + rng.uniform(-50, 30)),
            40 + k * 5,
            fill=(214, 190, 150, 70),
        )
    bike(c, 560, 520, 1.35, "short", SLATE_700)
    for i in range(6):  # the chequered banner
        for j in range(2):
            fill = SLATE_900 if (i + j) % 2 else CREAM
            c.rect((80 + i * 50, 90 + j * 50, 130 + i * 50, 140 + j * 50), fill)
    c.line([(80, 90), (80, 420)], SLATE_900, 8)


def solar_roof(c: Canvas, rng) -> None:
    """The factory roof now makes power: rows of panels under the sun."""
    sun(c, (1320, 180), 70, (255, 236, 170), (255, 220, 140))
    mountains(c, rng, 420, [SLATE_400, (120, 140, 120)], 220)
    lake(c, rng, 420, SLATE_400, SLATE_500, 520)
    c.gradient((0, 500, W, H), (92, 112, 86), (70, 88, 66))
    roof = [(120, 560), (1480, 560), (1560, 860), (40, 860)]
    c.poly(roof, (150, 150, 144))
    for row in range(5):
        y0 = 580 + row * 56
        y1 = y0 + 44
        inset0 = 120 - 80 * (y0 - 560) / 300
        inset1 = 120 - 80 * (y1 - 560) / 300
        for k in range(12):
            t0, t1 = k / 12, (k + 0.92) / 12
            left0, right0 = inset0, W - inset0
            left1, right1 = inset1, W - inset1
            quad = [
                (left0 + (right0 - left0) * t0, y0),
                (left0 + (right0 - left0) * t1, y0),
                (left1 + (right1 - left1) * t1, y1),
                (left1 + (right1 - left1) * t0, y1),
            ]
            c.poly(quad, mix((34, 60, 96), (60, 96, 140), (row + k % 3) / 8))
            c.line([quad[0], quad[2]], (140, 180, 220, 60), 2)


def sardinia_dusk(c: Canvas, rng) -> None:
    """Sardegna Rally Raid: dusk over the sea and the maquis, one rider home."""
    sun(c, (1100, 470), 90, (255, 214, 150), (255, 150, 90))
    c.gradient((0, 500, W, 620), (110, 90, 110), (70, 80, 110))  # sea
    for _ in range(30):
        y = rng.uniform(505, 615)
        x = rng.uniform(900, 1300)
        c.line([(x, y), (x + rng.uniform(30, 90), y)], (255, 200, 140, 110), 3)
    c.poly(
        [(0, 620), (0, 470), (260, 430), (520, 500), (700, 560), (900, 620)],
        (80, 62, 70),
    )
    c.poly(
        [(0, 900), (0, 640), (500, 600), (1100, 650), (1600, 610), (1600, 900)],
        (60, 44, 46),
    )
    for _ in range(40):  # maquis
        x, y = rng.uniform(0, W), rng.uniform(640, 880)
        c.circle((x, y), rng.uniform(12, 30), fill=(44, 34, 38))
    silhouette = (30, 24, 28)
    bike(c, 520, 690, 1.3, "short", silhouette=silhouette)
    c.circle((760, 390), 26, fill=silhouette)  # the rider, standing on the pegs
    c.poly([(735, 410), (790, 410), (800, 540), (720, 540)], silhouette)
    c.line([(780, 430), (860, 470)], silhouette, 18)
    c.line([(725, 530), (690, 610)], silhouette, 20)
    c.line([(790, 530), (760, 610)], silhouette, 20)


def rack_or_wheelbase(c: Canvas, rng) -> None:
    """Luggage rack or short wheelbase: two drawings side by side, one choice."""
    c.gradient((0, 0, W / 2, H), (232, 214, 198), (214, 188, 166))
    c.gradient((W / 2, 0, W, H), SLATE_200, SLATE_400)
    for x0 in (0, W / 2):  # drafting grid
        for gx in range(int(x0), int(x0 + W / 2), 50):
            c.line([(gx, 0), (gx, H)], (255, 255, 255, 70), 2)
        for gy in range(0, H, 50):
            c.line([(x0, gy), (x0 + W / 2, gy)], (255, 255, 255, 70), 2)
    bike(c, 170, 700, 1.15, "adventure", RUST)
    bike(c, 1000, 700, 1.15, "short", SLATE_700)
    c.rect((W / 2 - 6, 60, W / 2 + 6, H - 60), SLATE_900)
    c.circle((W / 2, H / 2), 62, fill=CREAM, outline=SLATE_900, width=10)
    c.line(
        [(W / 2 - 24, H / 2 - 24), (W / 2 + 24, H / 2 + 24)], SLATE_900, 10
    )  # "versus"
    c.line([(W / 2 + 24, H / 2 - 24), (W / 2 - 24, H / 2 + 24)], SLATE_900, 10)


def the_vote(c: Canvas, rng) -> None:
    """You chose: 371 votes to 214, as two columns, with confetti."""
    c.glow((800, 300), 800, SLATE_500, strength=90)
    base = 790
    for x, votes, colour in ((420, 371, SLATE_700), (980, 214, RUST)):
        top = base - votes * 1.55
        c.rect((x + 16, top + 16, x + 216, base + 16), (0, 0, 0, 60), radius=10)
        c.rect((x, top, x + 200, base), colour, radius=10)
    c.rect((300, base, 1300, base + 14), SLATE_900)
    bike(c, 405, base - 371 * 1.55, 0.62, "short", CREAM)
    for _ in range(90):
        x, y = rng.uniform(100, 1500), rng.uniform(60, 600)
        a = rng.uniform(0, math.pi)
        d = rng.uniform(8, 18)
        c.line(
            [(x, y), (x + d * math.cos(a), y + d * math.sin(a))],
            rng.choice([RUST_LIGHT, CREAM, SLATE_500, (230, 190, 90)]),
            6,
        )


def vivione_hairpins(c: Canvas, rng) -> None:
    """A day on the Vivione pass: hairpins up an autumn slope, a line of bikes."""
    mountains(c, rng, 430, [SLATE_200, SLATE_400], 300)
    c.poly(
        [(0, 900), (0, 380), (500, 300), (1000, 360), (1600, 280), (1600, 900)],
        (140, 120, 70),
    )
    c.poly([(0, 900), (0, 560), (800, 480), (1600, 540), (1600, 900)], (110, 96, 56))
    for _ in range(70):  # larches turning gold
        x, y = rng.uniform(0, W), rng.uniform(340, 880)
        s = 0.5 + (y - 340) / 540
        c.poly(
            [(x, y - 60 * s), (x - 18 * s, y), (x + 18 * s, y)],
            rng.choice([(214, 150, 40), (190, 110, 30), (90, 90, 50), (170, 130, 40)]),
        )
    road = [
        (-20, 860),
        (1300, 760),
        (1380, 720),
        (1300, 680),
        (300, 600),
        (220, 570),
        (300, 540),
        (1200, 470),
        (1270, 440),
        (1200, 410),
        (500, 360),
    ]
    c.line(road, (90, 90, 92), 34)
    c.line(road, (200, 196, 184), 3)
    for k, t in enumerate([0.12, 0.2, 0.28, 0.5, 0.58, 0.8]):
        seg = road[int(t * (len(road) - 1))]
        nxt = road[int(t * (len(road) - 1)) + 1]
        f = t * (len(road) - 1) % 1
        x, y = seg[0] + (nxt[0] - seg[0]) * f, seg[1] + (nxt[1] - seg[1]) * f
        c.circle((x, y - 8), 9, fill=[RUST_LIGHT, CREAM, (240, 200, 60)][k % 3])


def draft_price_list(c: Canvas, rng) -> None:
    """The 2027 price list (a draft): a ledger and a tag."""
    c.gradient((0, 0, W, H), (226, 222, 212), (196, 190, 178))
    c.rect((390, 120, 1070, 830), (0, 0, 0, 50), radius=12)
    c.rect((370, 100, 1050, 810), CREAM, radius=12)
    for k in range(12):
        y = 190 + k * 50
        c.line([(430, y), (760, y)], alpha(SLATE_500, 130), 6)
        c.line([(860, y), (990, y)], alpha(SLATE_700, 170), 6)
    tag = [(1130, 300), (1400, 300), (1500, 420), (1400, 540), (1130, 540)]
    c.poly(tag, RUST)
    c.circle((1420, 420), 20, fill=(226, 222, 212))
    c.line([(1420, 420), (1540, 320)], SLATE_700, 4)


def launch_night(c: Canvas, rng) -> None:
    """Lampo E's launch in the assembly hall: spotlights on the production bike."""
    c.gradient((0, 0, W, H), (16, 20, 26), (34, 40, 48))
    for sx in (400, 800, 1200):  # spotlight cones
        c.poly(
            [
                (sx - 20, 0),
                (sx + 20, 0),
                (800 + (sx - 800) * 0.2 + 260, 700),
                (800 + (sx - 800) * 0.2 - 260, 700),
            ],
            (200, 230, 230, 28),
        )
    c.glow((800, 690), 420, (90, 130, 140), strength=140)
    c.poly(
        [(440, 700), (1160, 700), (1240, 740), (360, 740)], (60, 70, 80)
    )  # the stage
    bike(c, 580, 700, 1.2, "electric", (230, 236, 238))
    people(c, rng, 40, 790, 900, palette=[(20, 24, 30), (30, 36, 44), (26, 30, 36)])


SCENES: dict[str, tuple[Colour, Colour, Callable[[Canvas, random.Random], None]]] = {
    "perche-questo-blog": ((250, 196, 150), (226, 170, 160), letters_by_the_lake),
    "sebino-800-dieci-anni": ((220, 232, 240), (244, 240, 230), sebino_on_the_lake),
    "lampo-e-prototipo": (SLATE_900, SLATE_800, lampo_on_the_bench),
    "lettera-di-un-cliente": (SLATE_700, SLATE_800, the_letter),
    "giornata-in-fabbrica": ((206, 222, 236), (236, 238, 236), factory_day),
    "stagione-corse-2026": ((150, 190, 222), (226, 232, 232), racing_season),
    "officina-solare": ((150, 196, 232), (232, 240, 240), solar_roof),
    "sardegna-rally-raid": ((60, 50, 90), (250, 160, 110), sardinia_dusk),
    "portapacchi-o-passo-corto": (CREAM, CREAM, rack_or_wheelbase),
    "risultato-del-voto": (SLATE_200, (236, 236, 232), the_vote),
    "giornata-sul-vivione": ((170, 200, 226), (236, 236, 228), vivione_hairpins),
    "listino-2027": (CREAM, CREAM, draft_price_list),
    "lampo-e-presentazione": (SLATE_900, SLATE_900, launch_night),
}
"""Post slug -> (sky top, sky bottom, the scene drawn over it)."""


def draw(slug: str) -> Canvas:
    top, bottom, scene = SCENES[slug]
    canvas = Canvas(top, bottom)
    scene(canvas, random.Random(slug))
    return canvas


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "content/images/covers")
    parser.add_argument("slugs", nargs="*", help="only these posts (default: all)")
    args = parser.parse_args(argv)
    for slug in args.slugs or SCENES:
        draw(slug).save(args.out / f"{slug}.jpg")


if __name__ == "__main__":
    main()
