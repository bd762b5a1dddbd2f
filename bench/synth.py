"""A synthetic bilingual site for benchmarks: N Italian posts, most translated."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

CATEGORIES = ["Azienda", "Moto", "Comunità", "Corse"]
TAGS = [f"tema {i}" for i in range(60)]
WORDS = (
    "moto",
    "lago",
    "strada",
    "curva",
    "motore",
    "telaio",
    "officina",
    "raduno",
    "pista",
    "comunità",
    "viaggio",
    "passo",
    "collina",
    "benzina",
    "elettrico",
    "cliente",
    "lettera",
    "storia",
    "lavoro",
    "squadra",
    "prova",
    "serbatoio",
    "ruota",
    "freno",
    "sella",
    "casco",
    "montagna",
)


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize()
        + "."
        for _ in range(count)
    )


def make_site(dest: Path, n_posts: int = 2000, *, translated: float = 0.8) -> Path:
    """Write a content folder at ``dest`` and return it (deterministic)."""
    rng = random.Random(n_posts)
    if dest.exists():
        shutil.rmtree(dest)
    posts = dest / "posts"
    posts.mkdir(parents=True)
    (dest / "pages").mkdir()
    start = datetime(2020, 1, 1, 9, 0)
    for i in range(n_posts):
        date = start + timedelta(hours=19 * i)
        slug = f"articolo-{i:05d}"
        category = CATEGORIES[i % len(CATEGORIES)]
        tags = ", ".join(rng.sample(TAGS, 3))
        body = "## Sezione\n\n" + _paragraphs(rng, 4)
        header = (
            f"Date: {date:%Y-%m-%d %H:%M}\nCategory: {category}\nTags: {tags}\n"
            f"Slug: {slug}\nAuthor: Chiara Valsecchi\n"
        )
        (posts / f"{slug}.it.md").write_text(
            f"Title: Articolo numero {i}\n{header}Lang: it\n"
            f"Summary: Riassunto dell'articolo {i}.\n\n{body}\n",
            encoding="utf-8",
        )
        if rng.random() < translated:
            (posts / f"{slug}.en.md").write_text(
                f"Title: Post number {i}\n{header}Lang: en\nTranslation: true\n"
                f"Summary: Summary of post {i}.\n\n{body}\n",
                encoding="utf-8",
            )
    return dest
