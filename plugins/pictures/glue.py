"""Pelican glue: a cover and responsive inline images for every article and page.

As each article or page is made (``content_object_init``), its ``Image:`` is
resolved into ``content.cover`` (a :class:`~pictures.cover.Picture`, or None)
and each ``<img src="{static}/...">`` of its text becomes a ``<picture>``.
Only file headers are read then (and, for an image the cache lacks, its
pixels, to find a truncated file); the missing variants are made in worker
processes while Pelican goes on reading and writing. When the build is
finalised, the variants of the images a written page shows are copied into
the output: a draft's or a future post's cover is not published, neither as
variants nor as a plain static file.

A bad image (missing, damaged, truncated, too many pixels, outside the
content folder, no alt text for a cover) is an error naming the file and the
field; the post is built without it. (``--fatal warnings``, as `invoke build`
runs, then stops the build on that error, before anything is published.)
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import re
import shutil
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from pictures import images, inline, strip
from pictures import settings as configuration
from pictures.cover import CoverError, Picture, Source, cover_source
from wholefile import write_whole

logger = logging.getLogger(__name__)

_LOCAL = re.compile(
    r"^(?:\{(?:static|attach|filename)\}|\|(?:static|attach|filename)\|)"
)
_SVG_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


@dataclass(frozen=True)
class Plan:
    """One source image and the variants it gets (widths ascending)."""

    path: Path
    key: str
    probe: images.Probe
    widths: tuple[int, ...]
    sources: tuple[str, ...]  # better formats, offered first

    @property
    def formats(self) -> tuple[str, ...]:
        return (*self.sources, self.probe.fallback)

    def names(self) -> list[str]:
        return [
            images.variant_name(self.key, w, f)
            for w in self.widths
            for f in self.formats
        ]


@dataclass
class Run:
    """What one build knows about its pictures."""

    settings: configuration.Settings
    content_root: Path
    output: Path
    siteurl: str | None  # None with RELATIVE_URLS: inline images keep their file
    plans: dict[Path, Plan | images.ImageError] = field(default_factory=dict)
    jobs: dict[str, images.Job] = field(default_factory=dict)
    futures: dict[str, Future] = field(default_factory=dict)
    pool: ProcessPoolExecutor | None = None
    # the JPEG/PNG files Pelican copies as they are (output paths)
    originals: list[Path] = field(default_factory=list)
    # the articles and pages that use each source (by key)
    users: dict[str, list[Any]] = field(default_factory=dict)
    seconds: float = 0.0  # the build's time spent here (not in the workers)

    def use(self, path: Path, content: Any) -> Plan:
        """The plan of a source image that ``content`` shows."""
        plan = self.plan(path)
        self.users.setdefault(plan.key, []).append(content)
        return plan

    def plan(self, path: Path) -> Plan:
        """The plan of a source image (once per build); ImageError if unusable."""
        found = self.plans.get(path)
        if found is None:
            try:
                found = self._plan(path)
            except images.ImageError as exc:
                found = exc
            self.plans[path] = found
        if isinstance(found, images.ImageError):
            raise found
        return found

    def _plan(self, path: Path) -> Plan:
        s = self.settings
        try:
            content_hash = images.digest(path)
        except OSError as exc:
            raise images.ImageError(f"can't be read ({exc.strerror})") from None
        key = hashlib.sha256(f"{content_hash};{s.fingerprint()}".encode()).hexdigest()
        probe = images.probe(path, s.max_pixels)
        if probe.animated:
            return Plan(path, key[:20], probe, (), ())
        plan = Plan(
            path,
            key[:20],
            probe,
            images.widths_for(probe.width, s.widths),
            tuple(f for f in s.formats if f != probe.fallback),
        )
        if not all(
            images.cache_entry(s.cache, name).is_file() for name in plan.names()
        ):
            images.probe(path, s.max_pixels, decode=True)  # a truncated file stops here
            self._schedule(plan)
        return plan

    def _schedule(self, plan: Plan) -> None:
        s = self.settings
        if plan.key in self.jobs:  # the same bytes under another name
            return
        job = images.Job(
            source=plan.path,
            key=plan.key,
            widths=plan.widths,
            formats=plan.formats,
            quality=s.quality,
            avif_speed=s.avif_speed,
            cache=s.cache,
            max_pixels=s.max_pixels,
        )
        self.jobs[plan.key] = job
        if s.workers > 1:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(s.workers, mp_context=_context())
            self.futures[plan.key] = self.pool.submit(images.make_or_error, job)

    def picture(self, plan: Plan, alt: str) -> Picture:
        folder = self.settings.output_dir
        fallback = tuple(
            (f"{folder}/{images.variant_name(plan.key, w, plan.probe.fallback)}", w)
            for w in plan.widths
        )
        sources = tuple(
            Source(
                images.MIME_TYPES[fmt],
                tuple(
                    (f"{folder}/{images.variant_name(plan.key, w, fmt)}", w)
                    for w in plan.widths
                ),
            )
            for fmt in plan.sources
        )
        width = plan.widths[-1]
        return Picture(
            src=fallback[-1][0],
            variants=fallback,
            sources=sources,
            width=width,
            height=images.height_for(width, plan.probe),
            alt=alt,
            path=plan.path,
        )


def _context():
    """Fork (fast) unless the process runs other threads (the dev server):
    a fork copies locks another thread may hold."""
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if forkable and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


_run: Run | None = None


def start(pelican: Any) -> None:
    """``initialized``: read the settings for this build."""
    global _run  # noqa: PLW0603 (one build per process at a time)
    finish_pool()
    settings = pelican.settings
    try:
        values = configuration.read(settings)
    except configuration.SettingsError as exc:
        logger.error("pictures: %s", exc)
        _run = None
        return
    _run = Run(
        settings=values,
        content_root=Path(settings["PATH"]).resolve(),
        output=Path(settings["OUTPUT_PATH"]),
        siteurl=None
        if settings.get("RELATIVE_URLS")
        else settings["SITEURL"].rstrip("/"),
    )


def _where(content: Any) -> str:
    return str(getattr(content, "source_path", None) or "?")


def content_ready(content: Any) -> None:
    """``content_object_init``: the cover and the inline images of one item."""
    from pelican.contents import Static  # noqa: PLC0415 (Pelican is loaded by now)

    if isinstance(content, Static) or _run is None:
        return
    started = time.perf_counter()
    content.cover = _cover(_run, content)
    html = getattr(content, "_content", None)
    if html and "<img" in html:
        content._content = _inline(_run, content, html, has_cover=bool(content.cover))
    _run.seconds += time.perf_counter() - started


def _cover(run: Run, content: Any) -> Picture | None:
    try:
        found = cover_source(content, run.content_root)
    except CoverError as exc:
        logger.error("pictures: %s", exc)
        return None
    if found is None:
        return None
    path, alt = found
    try:
        plan = run.use(path, content)
    except images.ImageError as exc:
        raw = content.metadata.get("image")
        logger.error("pictures: %s: 'Image: %s' %s", _where(content), raw, exc)
        return None
    if plan.probe.animated:
        url = path.relative_to(run.content_root).as_posix()
        return Picture(url, ((url, plan.probe.width),), (), plan.probe.width,
                       plan.probe.height, alt, path)  # fmt: skip
    return run.picture(plan, alt)


def _local_file(run: Run, content: Any, src: str) -> Path | None:
    """The file under content/ an ``<img src>`` names with ``{static}``, or
    None for any other URL. A path that leaves the folder is an ImageError."""
    match = _LOCAL.match(src)
    if not match:
        return None
    value = unquote(urlsplit(src[match.end() :]).path)
    if value.startswith("/"):
        path = run.content_root / value.lstrip("/")
    else:
        path = Path(_where(content)).parent / value
    path = path.resolve()
    if not path.is_relative_to(run.content_root):
        raise images.ImageError("leaves the content folder: name a file under content/")
    if not path.is_file():
        raise images.ImageError("does not exist")
    return path


def _inline(run: Run, content: Any, html: str, *, has_cover: bool) -> str:
    settings = run.settings

    def replace(attrs: inline.Attributes, first: bool) -> str | None:
        eager = first and not has_cover
        src = (attrs.get("src") or "").strip()
        mine = {k: v for k, v in attrs.items() if k not in inline.OWN - {"src"}}
        try:
            path = _local_file(run, content, src)
            if path is None:  # another site's image: its size is unknown here
                return _same_image(attrs, mine, None, eager)
            if path.suffix.lower() == ".svg":
                return _same_image(attrs, mine, _svg_size(path), eager)
            if run.siteurl is None:
                # RELATIVE_URLS: a srcset can't follow the page's depth; the
                # original stays, with its size
                found = images.probe(path, settings.max_pixels)
                return _same_image(attrs, mine, (found.width, found.height), eager)
            plan = run.use(path, content)
        except images.ImageError as exc:
            logger.error('pictures: %s: <img src="%s"> %s', _where(content), src, exc)
            return None
        if plan.probe.animated:  # an animated GIF or WebP stays as it is
            size = (plan.probe.width, plan.probe.height)
            return _same_image(attrs, mine, size, eager)
        return inline.picture_markup(
            run.picture(plan, ""),
            siteurl=run.siteurl,
            sizes=settings.inline_sizes,
            eager=eager,
            extra={
                k: v for k, v in attrs.items() if k not in {"src", "srcset", "sizes"}
            },
        )

    new, _ = inline.rewrite_images(html, replace)
    return new


def _same_image(
    attrs: inline.Attributes,
    mine: inline.Attributes,
    size: tuple[int, int] | None,
    eager: bool,
) -> str:
    """The author's ``<img>`` as it was, with its size when known and the
    loading hints."""
    kept = dict(mine)
    if size and not (attrs.get("width") and attrs.get("height")):
        kept["width"], kept["height"] = str(size[0]), str(size[1])
    else:
        for name in ("width", "height"):
            if attrs.get(name) is not None:
                kept[name] = attrs[name]
    return inline.img_tag({**kept, **inline.loading(eager)})


def _svg_size(path: Path) -> tuple[int, int] | None:
    """An SVG's size from its width/height (in px), or else its viewBox."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise images.ImageError(f"is not a readable SVG ({exc})") from None
    width, height = (_SVG_LENGTH.match(root.get(a) or "") for a in ("width", "height"))
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            w, h = float(box[2]), float(box[3])
        except ValueError:
            return None
        if w > 0 and h > 0:
            return round(w), round(h)
    return None


def static_files(generator: Any) -> None:
    """``static_generator_finalized``: leave out of the copied static files
    the images pages show only as variants (an unpublished post's cover
    must not be published as a plain file either), and note the JPEG/PNG
    originals still copied, to strip their metadata once in the output."""
    run = _run
    if run is None:
        return
    replaced = {
        plan.path
        for plan in run.plans.values()
        if isinstance(plan, Plan) and not plan.probe.animated
    }
    linked = set(generator.context.get("static_links") or ())
    kept = []
    for static in generator.staticfiles:
        path = run.content_root / static.relative_source_path
        if path.resolve() in replaced and static.relative_source_path not in linked:
            continue
        kept.append(static)
    generator.staticfiles[:] = kept
    listed = generator.context.get("staticfiles")
    if isinstance(listed, list) and listed is not generator.staticfiles:
        listed[:] = [s for s in listed if s in kept]
    run.originals = [
        run.output / static.save_as
        for static in kept
        if Path(static.source_path).suffix.lower() in {".jpg", ".jpeg", ".png"}
    ]


def strip_originals(run: Run) -> int:
    """Drop the metadata of the copied originals (pixels untouched); how many
    had some. Written to a new file and renamed: with STATIC_CREATE_LINKS the
    output is a link to the source, which must stay as it is."""
    stripped = 0
    for path in run.originals:
        try:
            data = path.read_bytes()
            clean = strip.strip(data)
            if clean != data:
                write_whole(path, clean)
                stripped += 1
        except OSError as exc:
            logger.error("pictures: could not strip the metadata of %s (%s)", path, exc)
    return stripped


def finish_pool() -> None:
    if _run is not None and _run.pool is not None:
        _run.pool.shutdown(cancel_futures=True)
        _run.pool = None


def publish(pelican: Any) -> None:
    """``finalized``: make what is missing, copy into the output the variants
    of the images that written pages show."""
    run = _run
    if run is None:
        return
    started = time.perf_counter()
    settings = run.settings
    made: dict[str, int] = {}
    for key, job in run.jobs.items():
        made[key], error = _result(run.futures.get(key), job)
        if error:
            logger.error("pictures: %s: %s", job.source, error)
            run.plans[job.source] = images.ImageError(error)
    finish_pool()
    # Only what a written page shows: a draft's cover stays unpublished.
    shown = [
        plan
        for plan in run.plans.values()
        if isinstance(plan, Plan)
        and any(getattr(c, "save_as", "") for c in run.users.get(plan.key, ()))
    ]
    folder = run.output / settings.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    for plan in shown:
        for name in plan.names():
            _copy(images.cache_entry(settings.cache, name), folder / name)
    stripped = strip_originals(run)
    total = sum(len(plan.names()) for plan in shown)
    made_now = sum(made.get(plan.key, 0) for plan in shown)
    logger.info(
        "pictures: %d variants of %d images: %d made now, %d reused from %s; "
        "metadata stripped from %d originals (%.2f s of the build's time)",
        total,
        len(shown),
        made_now,
        total - made_now,
        settings.cache,
        stripped,
        run.seconds + time.perf_counter() - started,
    )


def _result(future: Future | None, job: images.Job) -> tuple[int, str | None]:
    """A worker's answer, or the job made here when there is no worker (or
    the pool broke: a worker killed for memory, a start method that failed)."""
    if future is not None:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            logger.info("pictures: the worker pool broke (%s): making it here", exc)
    return images.make_or_error(job)


def _copy(entry: Path, target: Path) -> None:
    try:
        if target.is_file() and target.stat().st_size == entry.stat().st_size:
            return
        shutil.copyfile(entry, target)
    except OSError as exc:
        logger.error("pictures: could not copy %s to %s (%s)", entry, target, exc)
