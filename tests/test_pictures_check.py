"""`invoke check`'s image rules (piazza/check.py), through the real command:
an image over its budget and an <img> without alt fail the check, named."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import invoke
from PIL import Image

SITE = "https://www.example.test"


def write_page(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<!doctype html><html lang="it"><head><meta charset="utf-8">'
        f'<title>Pagina</title><link rel="canonical" href="{SITE}/">'
        f"</head><body><main>{body}</main></body></html>",
        encoding="utf-8",
    )


def test_invoke_check_fails_on_an_image_over_budget_and_one_without_alt(
    project, tmp_path
):
    site = tmp_path / "output"
    write_page(
        site / "index.html",
        f'<img src="{SITE}/images/grande.jpg" alt="Una foto enorme" '
        'width="1400" height="1400">',
    )
    write_page(
        site / "2026/senza-alt/index.html",
        f'<img src="{SITE}/images/piccola.png" width="8" height="8">'
        f'<img src="{SITE}/images/piccola.png" alt="" width="8" height="8">',
    )
    (site / "images").mkdir()
    noise = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    noise.save(site / "images/grande.jpg", quality=95)
    assert (site / "images/grande.jpg").stat().st_size > 1024 * 1024
    Image.new("RGB", (8, 8), "#3e4a55").save(site / "images/piccola.png")

    result = invoke(project, "check", "--output", str(site))

    assert result.returncode != 0
    lines = result.stdout.splitlines()
    over = [x for x in lines if "images/grande.jpg:" in x]
    assert len(over) == 1, result.stdout
    assert over[0].strip().startswith("index.html: images/grande.jpg:")
    assert "over the budget of 1,048,576 bytes for an image" in over[0]
    assert "(used by index.html)" in over[0]
    no_alt = [x for x in lines if "has no alt" in x]
    assert [x.strip() for x in no_alt] == [
        f'2026/senza-alt/index.html: <img src="{SITE}/images/piccola.png"> has no alt'
    ]
    assert "image-over-budget (1)" in result.stdout
    assert "image-without-alt (1)" in result.stdout
