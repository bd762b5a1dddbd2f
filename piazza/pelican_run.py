"""Running Pelican in a subprocess, exactly as `invoke build` does.

One place for the command line (warnings are fatal, settings overridden as
JSON with ``-e``), shared by publishing, the tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def pelican_args(
    output: Path,
    *,
    settings: Path,
    content: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path = ROOT,
) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "piazza.pelican_main",  # python -m pelican, with no teardown
        str(content or root / "content"),
        "-s",
        str(settings),
        "-o",
        str(output),
        "--fatal",
        "warnings",
    ]
    if overrides:
        args += ["-e", *(f"{k}={json.dumps(v)}" for k, v in overrides.items())]
    return args


def run_pelican(
    output: Path,
    *,
    settings: Path,
    content: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path = ROOT,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Build a site into ``output``; the caller reads the return code and log."""
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        pelican_args(
            output, settings=settings, content=content, overrides=overrides, root=root
        ),
        cwd=cwd or root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
