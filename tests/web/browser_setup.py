"""Install what the browser tests need: Debian's Chromium and axe-core.

Chromium comes from Debian's packages (``apt-get install chromium``), never a browser build that
Playwright downloads; axe-core comes from the npm registry through ``npm ci`` and the committed
lock file in ``tests/web/axe``. Both are installed on first use with their progress shown, and a
machine where that cannot happen gets a message saying exactly what to install: the browser
suite never skips silently. ``python -m tests.web.browser_setup`` installs both ahead of time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

CHROMIUM = Path("/usr/bin/chromium")
AXE_DIR = Path(__file__).parent / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_HINT = ("install Debian's Chromium as root: `apt-get update && apt-get install -y "
                 "--no-install-recommends chromium` (it must end up at /usr/bin/chromium)")
NPM_HINT = "install Node.js 18 or newer with npm (`apt-get install -y nodejs npm`) so `npm` is on PATH"


class BrowserSetupFailed(RuntimeError):
    """Chromium or axe-core is missing and could not be installed here."""


def _stream(command: Sequence[str], out: IO[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> int:
    """Run a command, passing its output on line by line as it comes; return its exit code."""
    print(f"$ {' '.join(command)}", file=out, flush=True)
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            print(line, end="", file=out, flush=True)
    return process.returncode


def _locked(path: Path) -> IO[str]:
    """An exclusive file lock, so parallel pytest processes install once."""
    guard = open(path, "w")  # the caller closes it (with-block), which releases the lock
    fcntl.flock(guard, fcntl.LOCK_EX)
    return guard


def ensure_chromium(out: IO[str] | None = None) -> Path:
    """Path of Debian's Chromium, installing it with apt-get when it is missing; progress goes to
    ``out`` (the standard error of the moment by default)."""
    out = out or sys.stderr
    if CHROMIUM.is_file():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        why = "apt-get is not available" if apt is None else "this is not root"
        raise BrowserSetupFailed(f"the browser tests need {CHROMIUM}, and {why}: {CHROMIUM_HINT}")
    with _locked(Path("/tmp/samverka-chromium-install.lock")):
        if CHROMIUM.is_file():
            return CHROMIUM
        print("installing Chromium from Debian's packages for the browser tests", file=out, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if _stream([apt, "update"], out, env=env) != 0:
            raise BrowserSetupFailed(f"`apt-get update` failed: {CHROMIUM_HINT}")
        command = [apt, "install", "-y", "--no-install-recommends", "chromium"]
        if _stream(command, out, env=env) != 0 or not CHROMIUM.is_file():
            raise BrowserSetupFailed(f"`apt-get install chromium` failed: {CHROMIUM_HINT}")
        print(f"Chromium installed at {CHROMIUM}", file=out, flush=True)
    return CHROMIUM


def ensure_axe(out: IO[str] | None = None) -> Path:
    """Path of ``axe.min.js``, running ``npm ci`` in tests/web/axe when it is missing or stale."""
    out = out or sys.stderr
    lock_file = AXE_DIR / "package-lock.json"
    installed = AXE_DIR / "node_modules" / ".package-lock.json"  # npm writes it after an install

    def fresh() -> bool:
        return AXE_SCRIPT.is_file() and installed.is_file() and installed.stat().st_mtime >= lock_file.stat().st_mtime

    if fresh():
        return AXE_SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        raise BrowserSetupFailed(f"the browser tests need axe-core from npm: {NPM_HINT}")
    with _locked(AXE_DIR / ".install.lock"):
        if fresh():
            return AXE_SCRIPT
        print(f"installing axe-core for the browser tests: npm ci in {AXE_DIR}", file=out, flush=True)
        if _stream([npm, "ci", "--no-audit", "--no-fund"], out, cwd=AXE_DIR) != 0 or not AXE_SCRIPT.is_file():
            raise BrowserSetupFailed(f"`npm ci` failed in {AXE_DIR}: {NPM_HINT}, then retry")
        print("axe-core installed", file=out, flush=True)
    return AXE_SCRIPT


def main() -> int:
    try:
        print(ensure_chromium(sys.stdout), ensure_axe(sys.stdout), sep="\n")
    except BrowserSetupFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
