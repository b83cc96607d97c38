#!/usr/bin/env python3
"""Set up Samverka on a fresh machine and run it: ``python3 dev.py up`` or ``python3 dev.py test``.

Creates ``.venv`` beside this file, installs the locked dependencies with uv
(itself installed by pip at a pinned version), installs the project, then runs
``samverka up`` or the whole test suite. Only Python 3.11+ is required.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
UV_VERSION = "0.13.9"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".samverka-installed"
LOCAL_DISTS = ["-e", str(ROOT)]


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: str, **kwargs: object) -> None:
    subprocess.run(args, check=True, **kwargs)  # type: ignore[call-overload]


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Samverka needs Python 3.11 or newer; run this script with python3.11 or later.")
    if not (BIN / "python").exists():
        say(f"creating virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    if not (BIN / "uv").exists():
        say(f"installing uv {UV_VERSION}")
        run(str(BIN / "python"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}")


def install() -> None:
    """Sync the venv with the lock file; cheap when nothing changed."""
    ensure_venv()
    inputs = [LOCK, ROOT / "pyproject.toml", *sorted((ROOT / "tests" / "plugins_src").glob("*/pyproject.toml"))]
    fingerprint = "|".join(f"{p}:{p.stat().st_mtime_ns}" for p in inputs if p.exists())
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    env = {**os.environ, "VIRTUAL_ENV": str(VENV), "UV_PYTHON_DOWNLOADS": "never"}
    say("installing locked dependencies (first run takes a minute)")
    run(str(BIN / "uv"), "pip", "sync", "--quiet", "--python", str(BIN / "python"), str(LOCK), env=env)
    extra = [arg for d in sorted((ROOT / "tests" / "plugins_src").glob("*/pyproject.toml")) for arg in ("-e", str(d.parent))]
    run(str(BIN / "uv"), "pip", "install", "--quiet", "--no-deps", "--python", str(BIN / "python"), *LOCAL_DISTS, *extra, env=env)
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"up", "test", "install"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    install()
    os.chdir(ROOT)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if command == "install":
        return 0
    if command == "up":
        os.execve(str(BIN / "samverka"), [str(BIN / "samverka"), "up", *rest], env)
    os.execve(str(BIN / "python"), [str(BIN / "python"), "-m", "pytest", *rest], env)
    return 0  # unreachable


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
