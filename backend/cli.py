"""The ``samverka`` command: run the platform, migrate, and administer tenants and tokens."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from backend.embedded import EmbeddedPostgres, EmbeddedRedis
from backend.lib import DomainError
from backend.settings import Settings

T = TypeVar("T")


def fail(message: str) -> None:
    raise click.ClickException(message)


@contextmanager
def servers(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """The configured servers, or the embedded ones in the data directory (started if needed)."""
    pg = EmbeddedPostgres(settings.data_dir) if not settings.database_url else None
    rd = EmbeddedRedis(settings.data_dir) if redis and not settings.redis_url else None
    try:
        db_url = pg.start() if pg else settings.database_url
        redis_url = rd.start() if rd else settings.redis_url
        yield Settings(
            **{
                **{f: getattr(settings, f) for f in settings.__struct_fields__},
                "database_url": db_url,
                "redis_url": redis_url,
            }
        )
    finally:
        if rd:
            rd.stop()
        if pg:
            pg.stop()


def run_async(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(db)`` with the app role's database, turning domain errors into CLI messages."""
    from backend.database import open_database
    from plugins.registry import PluginRegistry

    async def main() -> T:
        db = open_database(settings, PluginRegistry.discover(settings.plugins))
        await db.start(max_size=2)
        try:
            return await work(db)
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        details = "".join(f"\n  {f.field}: {f.message}" for f in getattr(exc, "fields", []))
        raise click.ClickException(f"{exc.code.value}: {exc.message}{details}") from None


def cli_actor() -> Any:
    from tenants.access import Actor

    return Actor.system(f"cli:{getpass.getuser()}")


@click.group()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    envvar="SAMVERKA_DATA_DIR",
    default="data",
    show_default=True,
    help="Where embedded PostgreSQL and Redis keep their data.",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path) -> None:
    """Samverka: the shared welfare-technology platform of a municipal federation."""
    from plugins.registry import PluginError, PluginRegistry

    os.environ["SAMVERKA_DATA_DIR"] = str(data_dir)
    ctx.obj = Settings.from_env()
    try:
        PluginRegistry.discover(ctx.obj.plugins)  # refuse to start on a broken or conflicting plugin
    except PluginError as exc:
        raise click.ClickException(f"{exc}\n(Set SAMVERKA_PLUGINS to choose plugins, or 'none' for none.)") from None


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply database migrations (as the owner role)."""
    from backend.migrate import migrate as run_migrations

    with servers(settings, redis=False) as s:
        asyncio.run(run_migrations(s))
    click.echo("Migrations applied.")


@main.command()
@click.pass_obj
def serve(settings: Settings) -> None:
    """Run the web process (GraphQL API)."""
    import uvicorn

    from backend.app import create_app

    with servers(settings) as s:
        uvicorn.run(create_app(s), host=s.host, port=s.port, log_level="info", lifespan="on")


@main.command()
@click.option("--threads", default=4, show_default=True)
@click.pass_obj
def worker(settings: Settings, threads: int) -> None:
    """Run a job worker (dramatiq)."""
    from backend.jobs.worker import run_worker

    with servers(settings) as s:
        run_worker(s, threads)


@main.command()
@click.option("--port", type=int, help="Port of the web process.")
@click.option("--seed/--no-seed", default=True, show_default=True, help="Seed the demo federation on first start.")
@click.option(
    "--simulators/--no-simulators",
    default=True,
    show_default=True,
    help="Run simulated lockers of three vendors, a medicine cabinet in a home, and the OPC UA gateway "
    "(with the lockers plugin).",
)
@click.option("--opcua-port", default=4841, show_default=True, help="First port of the simulated lockers.")
@click.option(
    "--demo-integrator/--no-demo-integrator",
    default=True,
    show_default=True,
    help="With the deliveries plugin and the simulators: an e-shop that books deliveries and plays "
    "the couriers and recipients at the simulated lockers.",
)
@click.pass_obj
def up(
    settings: Settings, port: int | None, seed: bool, simulators: bool, opcua_port: int, demo_integrator: bool
) -> None:
    """Everything in one process tree: embedded PostgreSQL + Redis, migrations, web, worker, and
    (with the lockers plugin) simulated lockers and the OPC UA gateway, and (with the deliveries
    plugin) a demo integrator that books deliveries on them."""
    from backend.migrate import migrate as run_migrations
    from backend.seed import DEMO_PASSWORD, seed_demo
    from plugins.registry import PluginRegistry

    env_default = "development" if "SAMVERKA_ENV" not in os.environ else settings.environment
    settings = Settings(
        **{
            **{f: getattr(settings, f) for f in settings.__struct_fields__},
            "environment": env_default,
            "port": port or settings.port,
        }
    )
    click.echo(f"Starting Samverka with data in {settings.data_dir} ...")
    with servers(settings) as s:
        click.echo("  servers ready: PostgreSQL and Redis")
        asyncio.run(run_migrations(s))
        click.echo("  migrations applied")
        logins = run_async(s, seed_demo) if seed else None
        children = _spawn(s)
        try:
            installed = PluginRegistry.discover(s.plugins)
            if seed and simulators and "lockers" in installed:
                children += _demo_lockers(s, opcua_port, demo_integrator and "deliveries" in installed)
            _banner(s, logins, DEMO_PASSWORD)
        except KeyboardInterrupt:  # Ctrl-C while starting: stop what runs, as after start-up
            click.echo("\nStopping ...")
            _stop(children)
        except BaseException:
            _stop(children)
            raise
        else:
            _supervise(children)
    click.echo("Samverka stopped.")


def _spawn(settings: Settings) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, **settings.child_environment()}
    exe = [sys.executable, "-m", "backend.cli"]
    return [subprocess.Popen([*exe, "serve"], env=env), subprocess.Popen([*exe, "worker", "--threads", "2"], env=env)]


def _demo_lockers(settings: Settings, opcua_port: int, integrator: bool) -> list[subprocess.Popen[bytes]]:
    """Simulated lockers of three vendors, registered with three municipalities, the gateway, and
    (``integrator``) the demo integrator that books deliveries on them."""
    from backend import demo

    sims = demo.start_simulators(settings, opcua_port)
    try:
        manifest = demo.wait_for_manifest(settings, sims)
        names = (f"{m['vendor']}{' (medicine cabinet)' if m.get('cabinet') else ''} {m['url']}" for m in manifest)
        click.echo(f"  simulated lockers: {', '.join(names)}")
        _wait_healthy(settings.public_url)
        endpoints = demo.register(settings, manifest)
        config = demo.gateway_config(settings, manifest, endpoints)
        shop = _demo_integrator_setup(settings, manifest) if integrator else None
    except BaseException:
        _stop([sims])
        raise
    env = {**os.environ, **settings.child_environment()}
    env.setdefault(demo.NORDLAS_PASSWORD_ENV, "nordlas-demo")
    gateway = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "gateway", "run", "--config", str(config)], env=env
    )
    click.echo(f"  OPC UA gateway started ({config})")
    if shop is None:
        return [sims, gateway]
    integrator_process = subprocess.Popen(
        [sys.executable, "-m", "backend.demo_deliveries", "--file", str(shop)], env=env
    )
    click.echo(f"  demo integrator {demo.INTEGRATOR} started: watch the lines starting with 'demo:'")
    return [sims, gateway, integrator_process]


def _demo_integrator_setup(settings: Settings, manifest: list[Any]) -> Path | None:
    """Deliveries enabled and the e-shop's token granted; None where the demo could not work.

    The notification service logs SMS and e-mail as sent only in development and tests (elsewhere
    they fail: no provider is configured), and only there may a webhook go to a local plain-HTTP
    receiver. ``up`` runs in development unless SAMVERKA_ENV says otherwise; then the demo
    integrator is left out rather than run against a platform that refuses it."""
    from backend import demo

    if not settings.sandbox:
        click.echo(
            f"  demo integrator left out: SAMVERKA_ENV={settings.environment} sends no logged SMS and refuses "
            "local webhooks (use development)"
        )
        return None
    return demo.prepare_demo_integrator(settings, manifest)


def _wait_healthy(url: str, timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    fail(f"the web process did not answer on {url}/healthz within {timeout_s:.0f} s")


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    """Wait until Ctrl-C / SIGTERM or a child dies, then stop all children."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(c.poll() is None for c in children):
        time.sleep(0.3)
    click.echo("\nStopping ...")
    _stop(children)


def _banner(settings: Settings, logins: list[Any] | None, password: str) -> None:
    url = settings.public_url
    click.echo(
        f"\nSamverka is running. GraphQL API: {url}/graphql"
        + (" (GraphiQL in the browser)" if settings.development else "")
    )
    if logins:
        click.echo(f"Demo federation seeded. Every demo account's password: {password}")
        for login in logins:
            click.echo(f"  {login.email:<32} {login.role:<17} {login.municipality}")
    click.echo(
        '\nSign in:   mutation { login(email: "admin@essunga.example", password: "...") '
        "{ ... on LoginSuccess { token } } }\n"
        "then send 'Authorization: Bearer <token>' (and 'X-Samverka-Tenant: <slug>' if you belong to several).\n"
        'API token: samverka tokens create --tenant essunga --name "E-handel" --scope municipality:read\n'
        "Lockers:   sign in as admin@lidkoping.example (Kylbox), admin@skara.example (Frostlogik) or\n"
        "           admin@vara.example (Nordlås) and ask\n"
        "           { lockers { name health { connectivity } compartments { key temperatureC doorOpen } } }\n"
        "Press Ctrl-C to stop.\n"
    )


@main.group()
def tenants() -> None:
    """Member municipalities (tenants)."""


@tenants.command("list")
@click.pass_obj
def tenants_list(settings: Settings) -> None:
    from tenants.provisioning import all_municipalities

    with servers(settings, redis=False) as s:
        items = run_async(s, all_municipalities)
    for m in items:
        click.echo(f"{m.slug:<16} {m.code}  {m.name:<20} {m.id}")
    if not items:
        click.echo("No municipalities yet: samverka tenants create NAME --code NNNN --federation SLUG")


@tenants.command("create")
@click.argument("name")
@click.option("--code", required=True, help="Kommunkod, four digits.")
@click.option("--slug", help="URL name; derived from NAME if left out.")
@click.option("--federation", "federation_slug", default="goliska-it", show_default=True)
@click.option("--federation-name", help="Creates the federation when it does not exist yet.")
@click.pass_obj
def tenants_create(
    settings: Settings, name: str, code: str, slug: str | None, federation_slug: str, federation_name: str | None
) -> None:
    from tenants.provisioning import create_municipality, ensure_federation, validate_municipality
    from tenants.tables import Federation

    async def work(db: Any) -> Any:
        validate_municipality(name=name, code=code, slug=slug, population=None)  # before creating anything
        async with db.shared() as scope:
            row = await Federation.select(Federation.id).where(Federation.slug == federation_slug).first()
            if row is None and not federation_name:
                fail(f"No federation '{federation_slug}'; add --federation-name to create it.")
            fed_id = (
                row["id"] if row else await ensure_federation(scope, slug=federation_slug, name=federation_name or "")
            )
        return await create_municipality(db, federation_id=fed_id, name=name, code=code, slug=slug, actor=cli_actor())

    with servers(settings, redis=False) as s:
        m = run_async(s, work)
    click.echo(f"Created {m.name} ({m.slug}), tenant id {m.id}")


@main.group()
def tokens() -> None:
    """Integrator API tokens."""


@tokens.command("create")
@click.option("--tenant", required=True, help="Slug or id of the municipality granting the token.")
@click.option("--name", required=True, help="What the token is for, e.g. the integrator's name.")
@click.option("--scope", "scopes", multiple=True, default=["municipality:read"], show_default=True)
@click.option("--days", default=90, show_default=True, help="Days until the token expires.")
@click.pass_obj
def tokens_create(settings: Settings, tenant: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    from backend.graphql.kernel import grantable_scopes
    from plugins.registry import PluginRegistry
    from tenants.provisioning import find_municipality
    from tenants.tokens import create_token

    async def work(db: Any) -> Any:
        m = await find_municipality(db, tenant)
        async with db.tenant(m.id) as scope:
            return await create_token(
                scope,
                name=name,
                scopes=list(scopes),
                expires_in_days=days,
                allowed_scopes=grantable_scopes(PluginRegistry.discover(settings.plugins)),
                actor=cli_actor(),
            )

    with servers(settings, redis=False) as s:
        new = run_async(s, work)
    click.echo(
        f"Token {new.record.id} for {tenant}, scopes {', '.join(new.record.scopes)}, "
        f"expires {new.record.expires_at:%Y-%m-%d}. Shown once, store it now:"
    )
    click.echo(new.token)


@tokens.command("revoke")
@click.argument("token_id")
@click.option("--tenant", required=True, help="Slug or id of the municipality that granted the token.")
@click.pass_obj
def tokens_revoke(settings: Settings, token_id: str, tenant: str) -> None:
    from uuid import UUID

    from backend.lib import NotFound
    from tenants.provisioning import find_municipality
    from tenants.tokens import revoke_token

    async def work(db: Any) -> Any:
        m = await find_municipality(db, tenant)
        try:
            tid = UUID(token_id)
        except ValueError:
            raise NotFound("API token", token_id) from None
        async with db.tenant(m.id) as scope:
            return await revoke_token(scope, token_id=tid, actor=cli_actor())

    with servers(settings, redis=False) as s:
        record = run_async(s, work)
    click.echo(f"Token {record.id} ({record.name}) revoked at {record.revoked_at:%Y-%m-%d %H:%M} UTC.")


@main.group()
def plugins() -> None:
    """Installed plugins and the municipalities that enabled them."""


@plugins.command("list")
@click.pass_obj
def plugins_list(settings: Settings) -> None:
    from plugins.registry import PluginRegistry
    from plugins.state import enabled_ids
    from tenants.provisioning import all_municipalities

    registry = PluginRegistry.discover(settings.plugins)

    async def work(db: Any) -> dict[str, list[str]]:
        users: dict[str, list[str]] = {p.id: [] for p in registry}
        for m in await all_municipalities(db):
            async with db.tenant(m.id) as scope:
                for plugin_id in await enabled_ids(scope):
                    users.setdefault(plugin_id, []).append(m.slug)
        return users

    if not len(registry):
        click.echo("No plugins installed.")
        return
    with servers(settings, redis=False) as s:
        enabled = run_async(s, work)
    for p in registry:
        needs = f"  needs {', '.join(f'{k} {v}' for k, v in p.depends_on.items())}" if p.depends_on else ""
        click.echo(f"{p.id:<20} {p.version:<8} {p.name.sv} / {p.name.en}{needs}")
        click.echo(f"{'':<20} enabled in: {', '.join(sorted(enabled.get(p.id, []))) or '(no municipality)'}")


@main.group()
def schema() -> None:
    """The GraphQL schema file."""


@schema.command("export")
@click.option("--check", is_flag=True, help="Fail if schema.graphql is stale instead of writing it.")
def schema_export(check: bool) -> None:
    from backend.graphql.schema import SCHEMA_FILE, export_sdl

    sdl = export_sdl()
    if check:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text() != sdl:
            fail("schema.graphql is stale: run `samverka schema export` and review the diff.")
        click.echo("schema.graphql is current.")
        return
    SCHEMA_FILE.write_text(sdl)
    click.echo(f"Wrote {SCHEMA_FILE}")


def _mount_gateway() -> None:
    """``samverka gateway ...``: the OPC UA gateway's own commands (it imports nothing of ours)."""
    from opcua_gateway.cli import gateway

    main.add_command(gateway)


_mount_gateway()

if __name__ == "__main__":
    main()
