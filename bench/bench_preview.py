"""How soon the development server shows a saved change, against a full rebuild.

For a synthetic site of N posts (bench/synth.py), runs the development server
of `invoke livereload` / `invoke dev` (piazza/devserver.py, its file watcher,
its warm Pelican) on loopback, then, several times: changes one word of one
post on disk and polls the HTTP server until the page shows the new word
(ours), and waits until the whole site is rebuilt and served (catch-up). The
baseline, measured in the same run: the full rebuild the old `livereload` ran
after every change (Pelican with its content cache, in a subprocess). Medians.

    python bench/bench_preview.py [--posts 200 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from synth import make_site  # noqa: E402

from piazza.devserver import DevSession, Project  # noqa: E402
from piazza.pelican_run import pelican_args  # noqa: E402
from piazza.siteserver import SiteServer, SiteState  # noqa: E402


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read()
    except OSError:
        return b""


def _wait(condition, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the development server did not catch up")
        time.sleep(0.005)


def _baseline(content: Path, output: Path, cache: Path, overrides: dict) -> float:
    """The old livereload's rebuild: the whole site, Pelican's content cache."""
    args = pelican_args(
        output,
        settings=ROOT / "pelicanconf.py",
        content=content,
        overrides={
            **overrides,
            "CACHE_CONTENT": True,
            "LOAD_CONTENT_CACHE": True,
            "CACHE_PATH": str(cache),
        },
    )
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(posts: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        content = make_site(tmp_path / "content", posts)
        port = _free_port()
        siteurl = f"http://localhost:{port}"
        overrides = {
            "SITEURL": siteurl,
            "FEED_DOMAIN": siteurl,
            "ISSO_API_URL": f"http://127.0.0.1:{_free_port()}",  # none: no snapshot
            "COMMUNITY_CACHE_DIR": str(tmp_path / "no-community"),
        }
        state = SiteState()
        server = SiteServer(state, "localhost", port, dev=True, theme=ROOT / "theme")
        server.start()
        project = Project(
            ROOT, ROOT / "pelicanconf.py", content, tmp_path / "dev", overrides
        )
        session = DevSession(project, state, say=lambda _message: None)
        session.start()
        fast, catch_up, full = [], [], []
        try:
            _wait(lambda: state.root is not None and not state.building)
            if state.error:
                raise RuntimeError(f"the first build failed:\n{state.error.log}")
            source = content / "posts" / f"articolo-{posts // 2:05d}.it.md"
            page = f"{siteurl}/{_url(session, source)}"
            # Baseline's cache, warmed once (as livereload's was after its start).
            _baseline(content, tmp_path / "baseline", tmp_path / "bcache", overrides)
            for run in range(runs):
                word = f"parolanuova{run}x{posts}"
                text = source.read_text(encoding="utf-8")
                generation = state.generation
                root = state.root
                started = time.perf_counter()
                source.write_text(
                    text.replace("## Sezione", f"## Sezione {word}", 1),
                    encoding="utf-8",
                )
                _wait(lambda w=word: w.encode() in _get(page))
                fast.append(time.perf_counter() - started)
                _wait(
                    lambda r=root, g=generation: (
                        state.root != r and state.generation > g and not state.building
                    )
                )
                catch_up.append(time.perf_counter() - started)
                full.append(
                    _baseline(
                        content, tmp_path / "baseline", tmp_path / "bcache", overrides
                    )
                )
        finally:
            session.close()
            server.close()
    print(
        f"{posts} posts, each run: served "
        + " ".join(f"{t:.2f}" for t in fast)
        + "; catch-up "
        + " ".join(f"{t:.2f}" for t in catch_up)
        + "; full rebuild "
        + " ".join(f"{t:.2f}" for t in full),
        flush=True,
    )
    return {
        "fast": statistics.median(fast),
        "catch_up": statistics.median(catch_up),
        "full": statistics.median(full),
    }


def _url(session: DevSession, source: Path) -> str:
    entry = session.sources[os.path.realpath(source)]
    return entry["outputs"][0].removesuffix("index.html")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {n: measure(n, args.runs) for n in args.posts}
    print(
        f"Preview benchmark: one word changed in one post, {args.runs} runs each, "
        f"medians; {os.cpu_count()} cores"
    )
    print(
        f"{'posts':>6}{'saved -> served (s)':>22}{'full rebuild (s)':>18}"
        f"{'ratio':>8}{'catch-up (s)':>14}  {'target':<24}"
    )
    for n, r in results.items():
        print(
            f"{n:>6}{r['fast']:>22.2f}{r['full']:>18.2f}"
            f"{r['fast'] / r['full']:>8.2f}{r['catch_up']:>14.2f}"
            f"  {'< 1 s; catch-up <= full':<24}"
        )


if __name__ == "__main__":
    main()
