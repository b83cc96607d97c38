"""``samverka gateway``: run the OPC UA gateway, or draft a profile for an unknown server.

The click group ``gateway`` is mounted into the main ``samverka`` CLI by the lead; it
also runs on its own: ``python -m opcua_gateway.cli run --config gateway.yaml``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import click

from opcua_gateway.config import load_config
from opcua_gateway.yamlsource import ConfigError


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("asyncua").setLevel(logging.WARNING)  # it logs every publish at INFO


@click.group("gateway")
def gateway() -> None:
    """The OPC UA gateway for locker hardware."""


@gateway.command("run")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The gateway's YAML configuration.")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
def run(config_file: Path, log_level: str) -> None:
    """Connect to every configured endpoint and forward events until stopped (SIGINT/SIGTERM)."""
    _logging(log_level)
    try:
        settings = load_config(config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    from opcua_gateway.runtime import Gateway  # asyncua is imported only when it is needed

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Gateway(settings).run(stop)

    asyncio.run(main())


@gateway.command("discover")
@click.argument("url")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the draft here (default: stdout).")
@click.option("--depth", default=7, show_default=True, help="How deep to browse below Objects.")
@click.option("--username", default=None)
@click.option("--password-env", default=None, help="The environment variable holding the password.")
def discover(url: str, out: Path | None, depth: int, username: str | None, password_env: str | None) -> None:
    """Browse an unknown server and write a draft vendor profile with TODO markers."""
    _logging("warning")
    from opcua_gateway.discover import DiscoverError, draft_profile

    try:
        text = asyncio.run(draft_profile(url, depth=depth, username=username, password_env=password_env))
    except DiscoverError as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"draft profile written to {out}; search it for TODO", err=True)


if __name__ == "__main__":
    gateway()
