"""plugins/pictures through real Pelican builds: covers, inline images, variants,
the cache, and bad images that must not stop the other posts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, BuildResult
from lxml import html
from PIL import ExifTags, Image

from piazza import pelican_run
from piazza.check import Kind, check_site, format_report
from pictures.settings import Budget

MINIMAL = FIXTURES / "content" / "minimal"
SITE = "http://127.0.0.1:8765"
WIDTHS = (480, 800, 1200, 1600)
# A test theme override: the article page renders the cover with the theme's
# own macro (the theme's article.html is the theme's to design).
ARTICLE = """{% extends "base.html" %}
{% from "macros/pictures.html" import picture with context %}
{% block content %}
<article class="post">
  <h1>{{ article.title }}</h1>
  {% if article.cover %}
  {{ picture(article.cover, sizes="(min-width: 46rem) 42rem, 100vw",
             eager=true, class_="cover") }}
  {% endif %}
  <div class="prose">{{ article.content }}</div>
</article>
{% endblock %}
"""


def post(slug: str, lang: str, body: str, *, head: str = "", title: str = "") -> str:
    return (
        f"Title: {title or slug}\nDate: 2026-02-01 10:00\nCategory: Azienda\n"
        f"Slug: {slug}\nLang: {lang}\nAuthor: Chiara Valsecchi\n"
        + ("Translation: true\n" if lang == "en" else "")
        + head
        + f"Summary: {slug}.\n\n{body}\n"
    )


def gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A smooth picture (small files, quick to encode)."""
    ramp = Image.linear_gradient("L").resize(size)
    bands = [ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp.rotate(180)]
    image = Image.merge("RGB", bands)
    if mode == "RGBA":
        image.putalpha(ramp)
    return image


def phone_photo(path: Path) -> None:
    """A 1200x800 JPEG a phone took on its side (orientation 6), with GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Telefono"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (45.0, 47.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (10.0, 4.0, 30.0)
    gradient((1200, 800)).save(path, "JPEG", exif=exif, quality=85)


def pelican(
    content: Path,
    output: Path,
    cache: Path,
    *,
    fatal: bool = True,
    verbose: bool = False,
    **overrides,
) -> BuildResult:
    """Build ``content`` as `invoke build` does (``fatal``: warnings stop it),
    with the variants cached in ``cache``."""
    args = pelican_run.pelican_args(
        output,
        settings=ROOT / "publishconf.py",
        content=content,
        overrides={
            "SITEURL": SITE,
            "FEED_DOMAIN": SITE,
            "COMMUNITY_CACHE_DIR": str(output.parent / "no-community-cache"),
            "PICTURES_CACHE_PATH": str(cache),
            "THEME_TEMPLATES_OVERRIDES": [str(content.parent / "templates")],
            "READ_CACHE": False,
            **overrides,
        },
    )
    if not fatal:
        at = args.index("--fatal")
        del args[at : at + 2]
    if verbose:
        args.append("--verbose")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return BuildResult(proc.returncode, output, proc.stdout + proc.stderr)


def site_source(root: Path, posts: dict[str, str]) -> Path:
    content = root / "content"
    shutil.copytree(MINIMAL, content)
    (content / "images").mkdir()
    (root / "templates").mkdir()
    (root / "templates" / "article.html").write_text(ARTICLE)
    for name, text in posts.items():
        (content / "posts" / name).write_text(text)
    return content


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BuildResult:
    """A site with a cover, inline PNG/JPEG/SVG images, and an English
    translation without a cover (its first inline image is the first seen)."""
    root = tmp_path_factory.mktemp("pictures")
    inline = (
        '<p><img src="{static}/images/schema.png" alt="Lo schema" class="wide"></p>\n\n'
        "![Foto dal telefono]({static}/images/telefono.jpg) "
        "([originale]({static}/images/telefono.jpg))\n\n"
        '<p><img src="{static}/images/logo.svg" alt="Il logo"></p>\n'
    )
    content = site_source(
        root,
        {
            "2026-02-foto.it.md": post(
                "foto",
                "it",
                inline,
                head="Image: {static}/images/copertina.jpg\n"
                "Image-Alt: Una Sebino 800 sul lago\n",
            ),
            "2026-02-foto.en.md": post(
                "foto", "en", inline.replace("Lo schema", "Plan")
            ),
            "2026-03-bozza.it.md": post(
                "bozza",
                "it",
                '<img src="{static}/images/solo-bozza.png" alt="Un prototipo">',
                head="Status: draft\nImage: {static}/images/segreta.jpg\n"
                "Image-Alt: La moto nuova\n",
            ),
            "2099-01-futuro.it.md": post(
                "futuro",
                "it",
                "Presto.",
                head="Image: {static}/images/segreta.jpg\nImage-Alt: La moto nuova\n",
            ).replace("2026-02-01", "2099-01-01"),
        },
    )
    images = content / "images"
    gradient((2000, 1125)).save(images / "copertina.jpg", "JPEG", quality=85)
    gradient((900, 600), "RGBA").save(images / "schema.png")
    phone_photo(images / "telefono.jpg")
    gradient((1000, 500)).save(images / "segreta.jpg", "JPEG")
    gradient((500, 500)).save(images / "solo-bozza.png")
    (images / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40">'
        '<rect width="120" height="40" fill="#3e4a55"/></svg>'
    )
    result = pelican(content, root / "output", root / "cache", verbose=True)
    assert result.returncode == 0, result.log
    return result


def page(result: BuildResult, rel: str) -> html.HtmlElement:
    return html.parse(str(result.output / rel)).getroot()


def variants_folder(result: BuildResult) -> Path:
    return result.output / "images" / "v"


def srcset(value: str) -> list[tuple[str, int]]:
    pairs = [candidate.split() for candidate in value.split(",")]
    return [(url, int(width.rstrip("w"))) for url, width in pairs]


def local(result: BuildResult, url: str) -> Path:
    assert url.startswith(SITE + "/"), url
    return result.output / url[len(SITE) + 1 :]


def test_cover_variants_exist_in_every_format_at_the_layout_widths(built):
    cover = page(built, "2026/foto/index.html").find(".//picture[@class='cover']")
    assert cover is not None
    img = next(cover.iter("img"))
    types = [source.get("type") for source in cover.iter("source")]
    assert types == ["image/avif", "image/webp"]
    expected = {"image/avif": "AVIF", "image/webp": "WEBP", None: "JPEG"}
    for element in [*cover.iter("source"), img]:
        candidates = srcset(element.get("srcset"))
        assert [w for _, w in candidates] == list(WIDTHS)
        for url, width in candidates:
            assert "/images/v/" in url
            with Image.open(local(built, url)) as variant:
                assert variant.format == expected[element.get("type")]
                assert variant.size == (width, round(width * 1125 / 2000))
    assert local(built, img.get("src")).name.endswith("-1600.jpg")


def test_the_cover_is_eager_with_its_size_and_alt(built):
    img = page(built, "2026/foto/index.html").find(".//picture[@class='cover']//img")
    assert (img.get("width"), img.get("height")) == ("1600", "900")
    assert img.get("alt") == "Una Sebino 800 sul lago"
    assert img.get("fetchpriority") == "high"
    assert img.get("loading") is None
    assert img.get("sizes") == "(min-width: 46rem) 42rem, 100vw"


def test_inline_images_become_lazy_pictures_after_a_cover(built):
    prose = page(built, "2026/foto/index.html").find(".//div[@class='prose']")
    pictures = prose.findall(".//picture")
    assert len(pictures) == 2  # the PNG and the JPEG; the SVG stays an <img>
    schema = pictures[0]
    assert [s.get("type") for s in schema.iter("source")] == [
        "image/avif",
        "image/webp",
    ]
    for source in schema.iter("source"):
        assert source.get("sizes") == "(min-width: 46rem) 42rem, calc(100vw - 2rem)"
        # 900 px wide: never enlarged, its own width is the largest variant
        assert [w for _, w in srcset(source.get("srcset"))] == [480, 800, 900]
    img = next(schema.iter("img"))
    assert img.get("src").endswith("-900.png")
    assert (img.get("width"), img.get("height")) == ("900", "600")
    assert img.get("alt") == "Lo schema"
    assert img.get("class") == "wide"
    with Image.open(local(built, img.get("src"))) as fallback:
        assert fallback.mode == "RGBA"  # transparency kept
    for img in prose.iter("img"):
        assert img.get("loading") == "lazy"
        assert img.get("decoding") == "async"
        assert img.get("fetchpriority") is None
        assert img.get("width") and img.get("height")
        assert img.get("alt")


def test_without_a_cover_the_first_inline_image_is_eager(built):
    prose = page(built, "en/2026/foto/index.html").find(".//div[@class='prose']")
    imgs = list(prose.iter("img"))
    assert imgs[0].get("alt") == "Plan"
    assert imgs[0].get("fetchpriority") == "high"
    assert imgs[0].get("loading") is None
    assert [i.get("loading") for i in imgs[1:]] == ["lazy", "lazy"]


def test_svg_passes_through_with_the_size_of_its_viewbox(built):
    prose = page(built, "2026/foto/index.html").find(".//div[@class='prose']")
    svg = next(i for i in prose.iter("img") if i.get("src").endswith(".svg"))
    assert svg.get("src") == f"{SITE}/images/logo.svg"
    assert (svg.get("width"), svg.get("height")) == ("120", "40")
    assert not list(svg.iterancestors("picture"))


def test_exif_orientation_is_applied_and_gps_dropped(built):
    prose = page(built, "2026/foto/index.html").find(".//div[@class='prose']")
    img = next(i for i in prose.iter("img") if i.get("alt") == "Foto dal telefono")
    # taken 1200x800 on its side: the reader sees it 800 wide, 1200 high
    assert (img.get("width"), img.get("height")) == ("800", "1200")
    urls = [url for url, _ in srcset(img.get("srcset"))]
    for source in next(img.iterancestors("picture")).iter("source"):
        urls += [url for url, _ in srcset(source.get("srcset"))]
    assert len(urls) == 6  # 480 and 800, in three formats
    for url in urls:
        with Image.open(local(built, url)) as variant:
            width = variant.size[0]
            assert variant.size == (width, width * 3 // 2)
            exif = variant.getexif()
            assert ExifTags.Base.Orientation not in exif
            assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
            assert ExifTags.Base.Make not in exif
            assert "exif" not in variant.info
            assert "xmp" not in variant.info


def test_the_published_original_keeps_its_pixels_and_orientation_not_its_gps(built):
    """The photo's original is linked ("originale"), so it is published too."""
    source = built.output.parent / "content" / "images" / "telefono.jpg"
    published = built.output / "images" / "telefono.jpg"
    with Image.open(source) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test's premise
        pixels = before.tobytes()
    with Image.open(published) as after:
        exif = after.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.Base.Make not in exif
        assert exif.get(ExifTags.Base.Orientation) == 6  # still shown upright
        assert after.tobytes() == pixels  # not re-encoded
    assert b"Telefono" not in published.read_bytes()


def test_images_only_unpublished_posts_show_are_not_published(built):
    # the draft's and the future post's cover, the draft's inline image
    for name in ("segreta.jpg", "solo-bozza.png"):
        assert not (built.output / "images" / name).exists()
    # the published post's originals are shown as variants only
    for name in ("copertina.jpg", "schema.png"):
        assert not (built.output / "images" / name).exists()
    # variants: the cover (4 widths), the PNG (3), the photo (2), 3 formats each
    assert len(os.listdir(variants_folder(built))) == 27
    assert not (built.output / "2026" / "bozza").exists()


def made_and_reused(log: str) -> tuple[int, int]:
    """The pictures plugin's summary line: variants made now, and reused."""
    found = re.findall(
        r"pictures: \d+ variants of \d+ images: (\d+) made now, (\d+) reused", log
    )
    assert len(found) == 1, log
    return int(found[0][0]), int(found[0][1])


def test_a_second_build_makes_no_variant(built, tmp_path):
    # 3 sources (cover, PNG, JPEG): 4 + 3 + 2 widths, 3 formats each
    assert made_and_reused(built.log) == (27, 0)
    cache = built.output.parent / "cache"
    entries = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    again = pelican(
        built.output.parent / "content",
        tmp_path / "output",
        cache,
        verbose=True,
    )
    assert again.returncode == 0, again.log
    assert made_and_reused(again.log) == (0, 27)
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == entries
    assert sorted(os.listdir(variants_folder(again))) == sorted(
        os.listdir(variants_folder(built))
    )


# -- Bad images: an error naming the file and the field; the post is built --


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> tuple[Path, BuildResult]:
    root = tmp_path_factory.mktemp("broken")
    alt = "Image-Alt: Una foto\n"
    posts = {
        "mancante": "Image: {static}/images/non-esiste.jpg\n" + alt,
        "rotta": "Image: {static}/images/rotta.jpg\n" + alt,
        "troncata": "Image: {static}/images/troncata.jpg\n" + alt,
        "fuori": "Image: {static}/../fuori.jpg\n" + alt,
        "bomba": "Image: {static}/images/bomba.png\n" + alt,
        "senza-alt": "Image: {static}/images/buona.jpg\n",
    }
    bodies = {
        "rotta-nel-testo": '<img src="{static}/images/rotta.jpg" alt="Una foto">',
        "troncata-nel-testo": "![Una foto]({static}/images/troncata.jpg)",
    }
    content = site_source(
        root,
        {
            f"2026-02-{slug}.it.md": post(
                slug, "it", bodies.get(slug, "Testo."), head=posts.get(slug, "")
            )
            for slug in [*posts, *bodies]
        },
    )
    images = content / "images"
    (images / "rotta.jpg").write_bytes(b"questa non e' una foto\n" * 40)
    whole = images / "buona.jpg"
    gradient((640, 360)).save(whole, "JPEG", quality=90)
    data = whole.read_bytes()
    (images / "troncata.jpg").write_bytes(data[: len(data) // 2])
    shutil.copy(whole, root / "fuori.jpg")
    # 10,000 x 9,000 pixels (over Pillow's MAX_IMAGE_PIXELS) in a tiny file
    Image.new("1", (10_000, 9_000)).save(images / "bomba.png", optimize=True)
    result = pelican(content, root / "output", root / "cache", fatal=False)
    return content, result


@pytest.mark.parametrize(
    ("slug", "named", "why"),
    [
        ("mancante", "'Image: {static}/images/non-esiste.jpg'", "does not exist"),
        ("rotta", "'Image: {static}/images/rotta.jpg'", "not an image Pillow can read"),
        ("troncata", "'Image: {static}/images/troncata.jpg'", "truncated"),
        ("fuori", "'Image: {static}/../fuori.jpg'", "leaves the content folder"),
        ("bomba", "'Image: {static}/images/bomba.png'", "decompression bomb"),
        ("senza-alt", "has no 'Image-Alt:'", "describe the picture"),
        ("rotta-nel-testo", '<img src="{static}/images/rotta.jpg">', "not an image"),
        ("troncata-nel-testo", '<img src="{static}/images/troncata.jpg">', "truncated"),
    ],
)
def test_a_bad_image_is_an_error_and_the_post_is_built_without_it(
    broken, slug, named, why
):
    content, result = broken
    assert result.returncode == 0, result.log
    source = str(content.resolve() / "posts" / f"2026-02-{slug}.it.md")
    errors = [
        x for x in result.log.splitlines() if x.startswith("ERROR") and source in x
    ]
    assert len(errors) == 1, result.log
    assert named in errors[0]
    assert why in errors[0]
    assert "Traceback" not in result.log
    article = html.parse(str(result.output / "2026" / slug / "index.html")).getroot()
    assert article.find(".//article//h1").text == slug
    assert article.find(".//picture") is None


def test_with_fatal_warnings_a_bad_cover_stops_the_build_naming_it(tmp_path):
    content = site_source(
        tmp_path,
        {
            "2026-02-foto.it.md": post(
                "foto", "it", "Testo.", head="Image: {static}/images/manca.jpg\n"
            )
        },
    )
    result = pelican(content, tmp_path / "output", tmp_path / "cache")
    assert result.returncode != 0
    assert "2026-02-foto.it.md: 'Image: {static}/images/manca.jpg'" in result.log
    assert "Traceback" not in result.log


def test_pages_with_pictures_are_valid_html(built):
    from test_html_validity import vnu_errors

    pages = [str(built.output / "2026/foto/index.html")]
    pages.append(str(built.output / "en/2026/foto/index.html"))
    assert vnu_errors(pages) == []


def test_the_check_fails_on_a_variant_over_budget_naming_file_and_page(built):
    cover = page(built, "2026/foto/index.html").find(".//picture[@class='cover']//img")
    largest = local(built, cover.get("src"))  # the cover's 1600 px JPEG
    weight = largest.stat().st_size
    heavier = sorted(
        p.name for p in variants_folder(built).iterdir() if p.stat().st_size >= weight
    )
    tight = Budget(variant=weight - 1, original=Budget.original)

    report = check_site(built.output, SITE, image_budget=tight)

    over = [f for f in report.errors if f.kind == Kind.IMAGE_OVER_BUDGET]
    assert sorted(f.detail.split(":")[0].split("/")[-1] for f in over) == heavier
    finding = next(f for f in over if f.detail.startswith(f"images/v/{largest.name}:"))
    assert finding.page == "2026/foto/index.html"
    assert (
        f"{weight:,} bytes, over the budget of {weight - 1:,} bytes for an image "
        # the post's page first; the theme's listings show the cover too
        "variant (used by 2026/foto/index.html" in finding.detail
    ), format_report(report)
    others = [f for f in report.errors if f.kind != Kind.IMAGE_OVER_BUDGET]
    assert check_site(built.output, SITE).errors == others


def test_strip_drops_png_text_and_exif_and_keeps_pixels_and_profile(tmp_path):
    from PIL import PngImagePlugin

    from pictures.strip import strip

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Chiara")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 3
    exif[ExifTags.Base.Make] = "Telefono"
    image = gradient((64, 32), "RGBA")
    path = tmp_path / "a.png"
    image.save(path, pnginfo=info, exif=exif, icc_profile=b"\0" * 128)
    clean = tmp_path / "b.png"
    clean.write_bytes(strip(path.read_bytes()))
    with Image.open(clean) as after:
        assert after.tobytes() == image.tobytes()
        assert after.text == {}
        assert after.info.get("icc_profile") == b"\0" * 128
        assert dict(after.getexif()) == {ExifTags.Base.Orientation: 3}
    # a file this doesn't understand is left as it is
    assert strip(b"GIF89a...") == b"GIF89a..."
    assert strip(b"\xff\xd8\xff\xe1\x00") == b"\xff\xd8\xff\xe1\x00"


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (2000, (480, 800, 1200, 1600)),
        (1600, (480, 800, 1200, 1600)),
        (900, (480, 800, 900)),
        (300, (300,)),
    ],
)
def test_widths_never_enlarge(width, expected):
    from pictures.images import widths_for

    assert widths_for(width, WIDTHS) == expected


def test_img_tags_are_found_whatever_their_quoting_and_pictures_left_alone():
    from pictures.inline import attributes, rewrite_images

    text = (
        "<p><img src='{static}/a.png' alt=\"a > b\" hidden></p>"
        '<picture><img src="{static}/b.png" alt=""></picture>'
        "<IMG SRC={static}/c.png alt='c'>"
    )
    seen = []

    def replace(attrs, first):
        seen.append((attrs, first))
        return "<x>"

    new, count = rewrite_images(text, replace)
    assert count == 3
    assert seen == [
        ({"src": "{static}/a.png", "alt": "a > b", "hidden": None}, True),
        ({"src": "{static}/c.png", "alt": "c"}, False),
    ]
    assert new == '<p><x></p><picture><img src="{static}/b.png" alt=""></picture><x>'
    assert attributes('<img alt="&quot;x&quot; &amp; y">') == {"alt": '"x" & y'}
