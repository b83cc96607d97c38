"""Run the node-opcua interop server (``node/server.js``) from Python.

It serves the Kylbox address space from another OPC UA stack than asyncua, so the gateway is
tested against a server it was not built together with. Its npm dependencies are installed on
first use (``npm ci`` from the committed lock file, with npm's progress shown), then it is
started as ``node server.js --port P`` and is ready when the port accepts connections.
"""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import subprocess
import sys
from pathlib import Path
from typing import IO

from opcua_gateway.simulators.spec import free_port

NODE_DIR = Path(__file__).parent / "node"
MIN_NODE_MAJOR = 18
INSTALL_HINT = (
    "install Node.js 18 or newer with npm, e.g. `apt-get install nodejs npm` (Debian/Ubuntu) "
    "or from https://nodejs.org, and make sure `node` and `npm` are on PATH"
)


class NodeNotInstalled(RuntimeError):
    """Node.js (or npm) is missing or too old to run the interop server."""


class NodeServerFailed(RuntimeError):
    """The interop server exited or did not open its port in time."""


def node_executables() -> tuple[str, str]:
    """Paths of ``node`` and ``npm``, after checking the Node.js version."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeNotInstalled(f"the node-opcua interop server needs Node.js: {INSTALL_HINT}")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    major = int(version.lstrip("v").split(".")[0])
    if major < MIN_NODE_MAJOR:
        raise NodeNotInstalled(f"Node.js {version} is too old for node-opcua: {INSTALL_HINT}")
    return node, npm


def ensure_installed(directory: Path = NODE_DIR, out: IO[str] = sys.stderr) -> str:
    """Install the npm dependencies if they are missing or older than the lock file; return
    the path of ``node``. Safe to call from several processes at once (a file lock)."""
    node, npm = node_executables()
    lock_file = directory / "package-lock.json"
    installed = directory / "node_modules" / ".package-lock.json"  # npm writes it after an install
    with open(directory / ".install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if installed.is_file() and (not lock_file.is_file() or installed.stat().st_mtime >= lock_file.stat().st_mtime):
            return node
        command = [npm, "ci" if lock_file.is_file() else "install", "--no-audit", "--no-fund"]
        print(f"installing node-opcua for the interop server: npm {command[1]} in {directory}", file=out, flush=True)
        pipe = subprocess.PIPE
        with subprocess.Popen(command, cwd=directory, stdout=pipe, stderr=subprocess.STDOUT, text=True) as npm_run:
            assert npm_run.stdout is not None  # stdout=PIPE
            for line in npm_run.stdout:  # npm's progress, passed on as it comes
                print(line, end="", file=out, flush=True)
        if npm_run.returncode != 0:
            raise NodeNotInstalled(f"`npm {command[1]}` failed in {directory} (exit {npm_run.returncode})")
        print("node-opcua installed", file=out, flush=True)
    return node


class NodeInteropServer:
    """``node server.js --port P`` as a child process; use ``async with`` or start()/stop()."""

    def __init__(
        self,
        port: int = 0,
        *,
        pki_dir: Path | None = None,
        directory: Path = NODE_DIR,
        startup_timeout_s: float = 60.0,
    ) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.pki_dir = pki_dir or directory / "pki"
        self.log_path = self.pki_dir / f"server-{self.port}.log"
        self.startup_timeout_s = startup_timeout_s
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        node = await asyncio.to_thread(ensure_installed, self.directory)
        self.pki_dir.mkdir(parents=True, exist_ok=True)
        log = await asyncio.to_thread(self.log_path.open, "wb")
        try:
            self._process = await asyncio.create_subprocess_exec(
                node, "server.js", "--port", str(self.port), "--pki", str(self.pki_dir),
                cwd=self.directory, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        finally:
            log.close()  # the child keeps its own descriptor
        try:
            await asyncio.wait_for(self._until_listening(), self.startup_timeout_s)
        except TimeoutError:
            await self.stop()
            raise NodeServerFailed(f"the interop server did not open port {self.port}: {self._log_tail()}") from None

    async def stop(self) -> None:
        """SIGTERM (the server shuts down cleanly), SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def _until_listening(self) -> None:
        while True:
            if self._process is None or self._process.returncode is not None:
                raise NodeServerFailed(f"the interop server exited: {self._log_tail()}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""
        return text[-2000:] or "(no output)"

    async def __aenter__(self) -> NodeInteropServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
