"""Deliveries benchmark: compartment reservations per second under concurrent integrators, and proof at the
database that no compartment was ever double-booked.

Self-contained: starts embedded PostgreSQL + Redis in a temp dir, migrates, creates municipalities and their
admins, starts ``samverka serve`` (rate limit raised so the limiter does not dominate), and through GraphQL,
as an admin would, enables the lockers and deliveries plugins, registers sites, endpoints and lockers, and
grants every integrator an API token (``deliveries:read`` + ``deliveries:write``) in every municipality.
No worker runs: creating a delivery needs none. Loads, each on sites of its own:

* mixed: the integrators (asyncio + httpx, one client each) call ``createDelivery`` for a fixed time with
  random sites, classes, sizes and windows over the next days; capacity fills and conflicts grow;
* hot spot: every integrator hammers one site with a few compartments for the same window, in rounds;
  exactly one success per compartment per round is expected, everything else CONFLICT;
* spread: every integrator asks once, all at once, at a site like the hot spot's for windows whose holds
  do not overlap, no window more often than there are compartments: every request fits;
* the same three at service level (``--service-seconds 0`` skips them): ``plugins.deliveries.service.create``
  from as many tasks on the app role's Database pool, without HTTP, GraphQL, token check and rate limit,
  to separate the database's cost from the web stack's. Here the inserts the exclusion constraint refused
  (races the reservation lost and retried) are counted by wrapping ``reservation.hold``'s store.

Then, as the owner role with ``app.tenant_id`` set per municipality: no two deliveries on one compartment
with overlapping holds, every success a client saw stored exactly once (and nothing it did not see), and
how many CONFLICTs were refused although a fitting compartment stayed free for the whole hold ("false";
holds are only ever added here, so the final state shows it). Exits 1 when a check fails (double bookings,
lost or phantom deliveries, errors other than CONFLICT, hot-spot count); false conflicts are reported as a
finding and leave the exit code alone. About a minute with the defaults.

    .venv/bin/python tests/bench/bench_deliveries.py [--integrators 50 --seconds 20 --service-seconds 10]
        [--profile]   # samverka serve under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import UUID

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from backend import plugin_api as api  # noqa: E402
from backend.database import open_database  # noqa: E402
from backend.embedded import EmbeddedServers  # noqa: E402
from backend.lib import utcnow  # noqa: E402
from backend.lib.errors import DomainError  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.settings import Settings  # noqa: E402
from opcua_gateway.contracts import SizeClass, TemperatureClass  # noqa: E402
from opcua_gateway.simulators.spec import free_port  # noqa: E402
from plugins.deliveries import config, reservation, service  # noqa: E402
from plugins.deliveries.domain import NewDelivery, Recipient, RecipientKind  # noqa: E402
from plugins.deliveries.effects import Effects  # noqa: E402
from tenants import accounts, provisioning  # noqa: E402
from tenants.access import Actor, Role  # noqa: E402
from tenants.database import Database  # noqa: E402

PASSWORD = "bench-horse-battery-staple"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }"
ENABLE = """mutation($p: String!, $c: JSON) { enablePlugin(pluginId: $p, config: $c) { __typename
  ... on Error { code message } } }"""
SITE = "mutation($i: RegisterSiteInput!) { registerSite(input: $i) { ... on Site { id } } }"
ENDPOINT = "mutation($i: RegisterEndpointInput!) { registerEndpoint(input: $i) { ... on LockerEndpoint { id } } }"
LOCKER = """mutation($i: RegisterLockerInput!) { registerLocker(input: $i) {
  ... on LockerRegistered { locker { id } } } }"""
TOKEN = """mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) {
  ... on ApiTokenCreated { token apiToken { id } } ... on Error { code message } } }"""
CREATE = """mutation($i: CreateDeliveryInput!) { createDelivery(input: $i) { __typename
  ... on DeliveryCreated { dropOffCode delivery { id compartmentId reference } } ... on Error { code message } } }"""
LOCKERS_CONFIG = {"door_ajar_limit_s": 3600, "temperature_excursion_limit_s": 3600, "open_timeout_s": 5}
GRACE_MIN, PICKUP_H, RETURN_H = 60, 12, 12  # a hold lasts the window + 25 h
DELIVERIES_CONFIG = {"dropoff_grace_minutes": GRACE_MIN, "pickup_hours": PICKUP_H, "return_hours": RETURN_H}
HOLD_AFTER = timedelta(minutes=GRACE_MIN, hours=PICKUP_H + RETURN_H)
SIZES = ("S", "M", "L", "XL")
# One locker: 12 compartments, three temperature classes, mixed sizes.
LAYOUT = [("chilled", s) for s in ("S", "S", "M", "M", "L")] + [("frozen", s) for s in ("S", "M", "L")] + [
    ("ambient", s) for s in ("S", "M", "L", "XL")]
LARGEST = {cls: max((SIZES.index(s) for c, s in LAYOUT if c == cls)) for cls, _ in LAYOUT}
PHONE = "+46701234567"
PROCESSES = ("samverka serve", "postgres", "benchmark")
SPREAD_WINDOWS, SPREAD_EVERY = 24, timedelta(hours=28)  # 2 h windows held 27 h; the last starts in < 27 days
CHECK_FREE = """
SELECT q.n FROM unnest($2::uuid[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[])
  WITH ORDINALITY AS q(site, cls, rank, lo, hi, n)
WHERE EXISTS (
  SELECT 1 FROM lockers_compartment c JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
  WHERE c.tenant_id = $1 AND l.site_id = q.site AND c.temperature_class = q.cls
    AND array_position(ARRAY['S','M','L','XL'], c.size_class::text) >= q.rank
    AND c.status NOT IN ('out_of_order', 'locked_out')
    AND NOT EXISTS (SELECT 1 FROM deliveries_delivery d WHERE d.tenant_id = $1 AND d.compartment_id = c.id
                    AND (d.hold && tstzrange(q.lo, q.hi) OR d.status = 'expired')))
"""
OVERLAPS = """SELECT count(*) FROM deliveries_delivery a JOIN deliveries_delivery b
  ON a.tenant_id = b.tenant_id AND a.compartment_id = b.compartment_id AND a.id < b.id AND a.hold && b.hold
  WHERE a.tenant_id = $1"""


def say(text: str) -> None:
    print(text, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_s() -> float:
    """Busy CPU seconds of the whole machine so far (all but idle and iowait)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Site:
    tenant: UUID
    id: str
    group: str  # "http mixed", "http hot", "http spread", and the same for "service"
    compartments: int


@dataclass(frozen=True)
class Request:
    tenant: UUID
    site: str
    cls: str
    size: str
    start: datetime
    end: datetime
    reference: str


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    by_outcome: dict[str, list[float]] = field(default_factory=dict)
    reserved: list[tuple[Request, str, str]] = field(default_factory=list)  # request, delivery id, compartment id
    conflicts: list[Request] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    rounds: list[int] = field(default_factory=list)  # hot spot: successes per round
    expected: int | None = None  # hot spot and spread: the successes there must be
    false_conflicts: int | None = None
    started: float = 0.0
    reserved_at: list[float] = field(default_factory=list)  # seconds into the phase
    races: int | None = None  # service level: inserts the exclusion constraint refused (lost races, retried)

    def best_rate(self, window: float = 5.0) -> float:
        """Reservations per second in the best ``window`` seconds (while capacity lasted)."""
        ends = sorted(self.reserved_at)
        if self.seconds < 2 * window or not ends:
            return len(ends) / self.seconds
        return max(bisect.bisect_right(ends, t + window) - i for i, t in enumerate(ends)) / window

    @property
    def attempts(self) -> int:
        return len(self.reserved) + len(self.conflicts) + sum(self.errors.values())

    def line(self, elapsed: float) -> str:
        return (f"{elapsed:4.0f} s: {self.attempts:6,} attempts ({self.attempts / max(elapsed, 1e-9):5.0f}/s), "
                f"{len(self.reserved):5,} reserved, {len(self.conflicts):6,} conflicts, "
                f"{sum(self.errors.values())} other errors")


Attempt = Callable[[int, Request], Awaitable[tuple[str, Any]]]  # integrator index, request -> outcome, detail


class Bench:
    def __init__(self, tmp: Path, settings: Settings, servers: EmbeddedServers, args: argparse.Namespace) -> None:
        self.tmp, self.settings, self.servers, self.args = tmp, settings, servers, args
        self.tenants: list[UUID] = []
        self.sites: list[Site] = []
        self.tokens: dict[tuple[int, UUID], tuple[str, UUID]] = {}  # (integrator, tenant) -> token, token id
        self.phases: list[Phase] = []
        self.base = (utcnow() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
        self.serve: subprocess.Popen[bytes] | None = None
        self.races: int | None = None  # inserts the exclusion constraint refused, counted at service level

    # -------------------------------------------------------------------------------------------- set-up

    async def municipalities(self) -> None:
        db = open_database(self.settings)
        await db.start(max_size=2)
        try:
            actor = Actor.system("bench")
            async with db.shared() as scope:
                fed = await provisioning.ensure_federation(scope, slug="bench", name="Benchförbundet")
            for n in range(self.args.tenants):
                m = await provisioning.create_municipality(db, federation_id=fed, name=f"Benchkommun {n}",
                                                           code="1494", slug=f"bench-deliveries-{n}", actor=actor)
                async with db.tenant(m.id) as scope:
                    user = await accounts.create_user(scope, email=f"admin{n}@bench-deliveries.example",
                                                      name="Bench", password=PASSWORD, federation_id=fed)
                    await accounts.grant_membership(scope, user_id=user.id, role=Role.TENANT_ADMIN, actor=actor)
                self.tenants.append(m.id)
        finally:
            await db.close()

    async def register(self, n: int, tenant: UUID) -> None:
        """As the municipality's admin: plugins, sites, lockers, and a token for every integrator."""
        async with httpx.AsyncClient(base_url=self.settings.public_url, timeout=60) as http:

            async def gql(query: str, variables: dict[str, Any], name: str) -> Any:
                body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
                if body.get("errors") or not (body.get("data") or {}).get(name) or "code" in body["data"][name]:
                    raise RuntimeError(f"{name}: {body}")
                return body["data"][name]

            login = await gql(LOGIN, {"e": f"admin{n}@bench-deliveries.example", "p": PASSWORD}, "login")
            http.headers["Authorization"] = f"Bearer {login['token']}"
            await gql(ENABLE, {"p": "lockers", "c": LOCKERS_CONFIG}, "enablePlugin")
            await gql(ENABLE, {"p": "deliveries", "c": DELIVERIES_CONFIG}, "enablePlugin")
            clients = ("http", "service") if self.args.service_seconds else ("http",)
            loads = [("mixed", self.args.sites)] + ([("hot", 1), ("spread", 1)] if n == 0 else [])
            groups = [(f"{client} {load}", count) for client in clients for load, count in loads]
            for group, count in groups:
                for s in range(count):
                    name = f"{group.replace(' ', '-')}-{n}-{s}"
                    site = await gql(SITE, {"i": {"name": f"Vårdcentralen {name}", "address": "Storgatan 1",
                                                  "latitude": 58.5 + s / 100, "longitude": 13.1}}, "registerSite")
                    ep = await gql(ENDPOINT, {"i": {"name": f"kb-{name}", "vendor": "kylbox",
                                                    "url": f"opc.tcp://127.0.0.1:{4841 + s}"}}, "registerEndpoint")
                    hot = not group.endswith("mixed")
                    lockers = 1 if hot else self.args.lockers
                    layout = [("chilled", "M")] * self.args.hot_compartments if hot else LAYOUT
                    for k in range(lockers):
                        comps = [{"key": str(i + 1), "temperatureClass": c.upper(), "sizeClass": z}
                                 for i, (c, z) in enumerate(layout)]
                        await gql(LOCKER, {"i": {"siteId": site["id"], "endpointId": ep["id"], "name": f"Skåp {k + 1}",
                                                 "vendorLockerId": f"L{k + 1}", "compartments": comps}},
                                  "registerLocker")
                    self.sites.append(Site(tenant, site["id"], group, lockers * len(layout)))
            for i in range(self.args.integrators):
                new = await gql(TOKEN, {"i": {"name": f"Leverantör {i:02d}", "expiresInDays": 30,
                                              "scopes": ["deliveries:read", "deliveries:write"]}}, "createApiToken")
                self.tokens[i, tenant] = new["token"], UUID(new["apiToken"]["id"])

    # ---------------------------------------------------------------------------------------- load

    def mixed_request(self, rng: random.Random, sites: list[Site], reference: str) -> Request:
        site = rng.choice(sites)
        cls = rng.choice(("chilled", "frozen", "ambient"))
        start = self.base + timedelta(minutes=15 * rng.randrange(self.args.days * 96))
        return Request(site.tenant, site.id, cls, SIZES[rng.randint(0, LARGEST[cls])], start,
                       start + timedelta(minutes=30 * rng.randint(2, 12)), reference)

    def record(self, phase: Phase, request: Request, outcome: str, detail: Any, seconds: float) -> str:
        phase.latencies.append(seconds)
        phase.by_outcome.setdefault(outcome, []).append(seconds)
        if outcome == "reserved":
            phase.reserved.append((request, *detail))
            phase.reserved_at.append(time.perf_counter() - phase.started)
        elif outcome == "conflict":
            phase.conflicts.append(request)
        else:
            phase.errors[str(detail)[:200]] += 1
        return outcome

    async def timed(self, phase: Phase, attempt: Attempt, i: int, request: Request) -> str:
        t0 = time.perf_counter()
        outcome, detail = await attempt(i, request)
        return self.record(phase, request, outcome, detail, time.perf_counter() - t0)

    async def measured(self, phase: Phase, work: Awaitable[object]) -> None:
        """Run ``work`` with a progress line every 5 s; the CPU each part used, in cores."""
        cpu0, machine0, t0 = {k: cpu_s(v) for k, v in self.pids().items()}, machine_s(), time.perf_counter()
        phase.started, races = t0, self.races

        async def progress() -> None:
            while True:
                await asyncio.sleep(5)
                say(f"  {phase.name}: {phase.line(time.perf_counter() - t0)}")

        ticker = asyncio.create_task(progress())
        try:
            await work
        finally:
            ticker.cancel()
        phase.seconds = time.perf_counter() - t0
        phase.cpu = {k: (cpu_s(v) - cpu0[k]) / phase.seconds for k, v in self.pids().items()}
        busy = (machine_s() - machine0) / phase.seconds
        phase.cpu["others"] = max(0.0, busy - sum(phase.cpu.values()))
        if races is not None and self.races is not None:
            phase.races = self.races - races
        self.phases.append(phase)
        say(f"  {phase.name}: {phase.line(phase.seconds)} -- done")

    async def mixed(self, phase: Phase, attempt: Attempt, sites: list[Site], seconds: float) -> None:
        deadline = time.perf_counter() + seconds

        async def integrator(i: int) -> None:
            rng = random.Random(f"{self.args.seed}-{phase.name}-{i}")
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                await self.timed(phase, attempt, i, self.mixed_request(rng, sites, f"{phase.name[:1]}{i:02d}-{n}"))

        await self.measured(phase, asyncio.gather(*(integrator(i) for i in range(self.args.integrators))))

    async def hot(self, phase: Phase, attempt: Attempt, site: Site) -> None:
        """Rounds: every integrator fires ``--hot-tries`` requests at one site for one window, all at once."""

        async def rounds() -> None:
            for r in range(self.args.hot_rounds):
                start = self.base + timedelta(days=1 + 2 * r)  # holds of two rounds never overlap
                before = len(phase.reserved)

                async def integrator(i: int, r: int, start: datetime) -> None:
                    rng = random.Random(f"{self.args.seed}-{phase.name}-{r}-{i}")
                    for t in range(self.args.hot_tries):
                        request = Request(site.tenant, site.id, "chilled", rng.choice(("S", "M")), start,
                                          start + timedelta(hours=2), f"{phase.name[:1]}h{r}-{i:02d}-{t}")
                        await self.timed(phase, attempt, i, request)

                await asyncio.gather(*(integrator(i, r, start) for i in range(self.args.integrators)))
                phase.rounds.append(len(phase.reserved) - before)
                say(f"  {phase.name}: round {r + 1}/{self.args.hot_rounds}: {phase.rounds[-1]} reserved of "
                    f"{site.compartments} compartments, {self.args.integrators * self.args.hot_tries} attempts")

        phase.expected = site.compartments * self.args.hot_rounds
        await self.measured(phase, rounds())

    async def spread(self, phase: Phase, attempt: Attempt, site: Site) -> None:
        """Every integrator asks once, all at once, at a twin of the hot spot, for one of ``SPREAD_WINDOWS``
        windows whose holds never overlap, no window more often than there are compartments (with the
        defaults): every request fits, so a CONFLICT here refuses capacity that was there."""
        windows = [self.base + SPREAD_EVERY * (i % SPREAD_WINDOWS) for i in range(self.args.integrators)]
        asked = Counter(windows)
        phase.expected = sum(min(n, site.compartments) for n in asked.values())
        requests = [Request(site.tenant, site.id, "chilled", "M", w, w + timedelta(hours=2),
                            f"{phase.name[:1]}s-{i:02d}") for i, w in enumerate(windows)]
        await self.measured(phase, asyncio.gather(*(self.timed(phase, attempt, i, r) for i, r in enumerate(requests))))

    async def loads(self, label: str, attempt: Attempt, seconds: float) -> None:
        """The three loads on the sites of one client (http or service)."""
        mixed = [s for s in self.sites if s.group == f"{label} mixed"]
        hot = next(s for s in self.sites if s.group == f"{label} hot")
        spread = next(s for s in self.sites if s.group == f"{label} spread")
        who = "integrators (one HTTP client each)" if label == "http" else "tasks calling service.create"
        say(f"[{label}] mixed: {self.args.integrators} {who} for {seconds:.0f} s on {len(mixed)} sites ...")
        await self.mixed(Phase(f"{label} mixed"), attempt, mixed, seconds)
        say(f"[{label}] hot spot: {self.args.hot_rounds} rounds, all at one site with {hot.compartments} "
            "compartments, one window per round ...")
        await self.hot(Phase(f"{label} hot spot"), attempt, hot)
        say(f"[{label}] spread: {self.args.integrators} requests at once at one site with {spread.compartments} "
            f"compartments, non-overlapping windows, each asked at most {spread.compartments} times ...")
        await self.spread(Phase(f"{label} spread"), attempt, spread)

    # ------------------------------------------------------------------------------ the two clients

    async def over_http(self) -> None:
        clients = [httpx.AsyncClient(base_url=self.settings.public_url, timeout=60,
                                     limits=httpx.Limits(max_connections=1)) for _ in range(self.args.integrators)]

        async def attempt(i: int, r: Request) -> tuple[str, Any]:
            variables = {"i": {"reference": r.reference, "siteId": r.site, "temperatureClass": r.cls.upper(),
                               "sizeClass": r.size, "windowStart": r.start.isoformat(), "windowEnd": r.end.isoformat(),
                               "recipient": {"kind": "STAFF_UNIT", "name": "Hemtjänst Norr", "phone": PHONE}}}
            headers = {"Authorization": f"Bearer {self.tokens[i, r.tenant][0]}"}
            try:
                response = await clients[i].post("/graphql", json={"query": CREATE, "variables": variables},
                                                 headers=headers)
            except httpx.HTTPError as exc:
                return "error", f"{type(exc).__name__}: {exc}"
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            result = (body.get("data") or {}).get("createDelivery")
            if response.status_code != 200 or body.get("errors") or not result:
                return "error", f"HTTP {response.status_code}: {response.text[:150]}"
            if result["__typename"] == "DeliveryCreated":
                d = result["delivery"]
                ok = d["reference"] == r.reference and len(result["dropOffCode"]) == 6
                return ("reserved", (d["id"], d["compartmentId"])) if ok else ("error", f"odd answer {result}")
            return classify(result.get("code"), result.get("message", ""))

        try:
            await self.loads("http", attempt, self.args.seconds)
        finally:
            for client in clients:
                await client.aclose()

    async def in_process(self) -> None:
        """service.create as the resolver calls it (settings read in the same transaction), without HTTP,
        GraphQL, token check, rate limit and the after-commit Redis publish."""
        db: Database = open_database(self.settings)
        await db.start(max_size=self.settings.pool_max_size)

        async def attempt(i: int, r: Request) -> tuple[str, Any]:
            token_id = self.tokens[i, r.tenant][1]
            new = NewDelivery(r.reference, r.site, TemperatureClass(r.cls), SizeClass(r.size),
                              Recipient(RecipientKind.STAFF_UNIT, "Hemtjänst Norr", PHONE, None), r.start, r.end)
            try:
                async with db.tenant(r.tenant) as scope:
                    settings = await config.load(scope)
                    created = await service.create(scope, new, integrator=token_id,
                                                   actor=Actor("token", token_id, f"token:Leverantör {i:02d}"),
                                                   settings=settings, now=utcnow(), effects=Effects(r.tenant))
            except DomainError as exc:
                return classify(exc.code.value, exc.message)
            return "reserved", (str(created.row["id"]), str(created.row["compartment_id"]))

        hold = reservation.hold
        self.races = 0

        async def counting_hold(scope: api.Scope, **kwargs: Any) -> reservation.Held:
            """reservation.hold, counting the inserts the exclusion constraint refuses (read-only probe)."""
            store = kwargs["store"]

            async def counted(held: reservation.Held) -> None:
                try:
                    await store(held)
                except asyncpg.ExclusionViolationError:
                    self.races = (self.races or 0) + 1
                    raise

            return await hold(scope, **{**kwargs, "store": counted})

        try:
            with mock.patch.object(reservation, "hold", counting_hold):
                await self.loads("service", attempt, self.args.service_seconds)
        finally:
            await db.close()

    def pids(self) -> dict[str, list[int]]:
        postmaster = int((self.tmp / "data/postgres/postmaster.pid").read_text().split()[0])
        children = []
        for p in Path("/proc").iterdir():
            try:
                if p.name.isdigit() and (p / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(postmaster):
                    children.append(int(p.name))
            except OSError:
                continue
        assert self.serve is not None
        return {"samverka serve": [self.serve.pid], "postgres": [postmaster, *children], "benchmark": [os.getpid()]}

    # ------------------------------------------------------------------------------------- proof

    async def verify(self) -> dict[str, Any]:
        assert self.settings.database_url
        owner = await asyncpg.connect(self.settings.database_url)  # the owner role: RLS applies (FORCE)
        seen = [(p, r, d, c) for p in self.phases for r, d, c in p.reserved]
        result: dict[str, Any] = {"overlapping pairs": 0, "stored": 0, "missing": 0, "phantom": 0,
                                  "wrong compartment": 0, "seen twice": len(seen) - len({d for *_, d, _ in seen})}
        try:
            result["constraint"] = await owner.fetchval(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'deliveries_delivery'::regclass AND contype = 'x'")
            for tenant in self.tenants:
                async with owner.transaction():
                    await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
                    result["overlapping pairs"] += await owner.fetchval(OVERLAPS, tenant)
                    rows = await owner.fetch("SELECT id, compartment_id, reference FROM deliveries_delivery "
                                             "WHERE tenant_id = $1", tenant)
                    stored = {str(r["id"]): (str(r["compartment_id"]), r["reference"]) for r in rows}
                    mine = {d: (c, r.reference) for _, r, d, c in seen if r.tenant == tenant}
                    result["stored"] += len(stored)
                    result["missing"] += len(mine.keys() - stored.keys())
                    result["phantom"] += len(stored.keys() - mine.keys())
                    result["wrong compartment"] += sum(stored[d] != v for d, v in mine.items() if d in stored)
                    for phase in self.phases:
                        asked = [r for r in phase.conflicts if r.tenant == tenant]
                        free = await owner.fetch(CHECK_FREE, tenant, [UUID(r.site) for r in asked],
                                                 [r.cls for r in asked], [SIZES.index(r.size) + 1 for r in asked],
                                                 [r.start for r in asked], [r.end + HOLD_AFTER for r in asked])
                        phase.false_conflicts = (phase.false_conflicts or 0) + len(free)
                        if free and "example" not in result:
                            r = asked[free[0]["n"] - 1]
                            result["example"] = (f"{phase.name}: {r.cls} {r.size} at site {r.site}, window "
                                                 f"{r.start:%Y-%m-%d %H:%M}-{r.end:%H:%M} UTC")
        finally:
            await owner.close()
        return result

    async def run(self) -> dict[str, Any]:
        say(f"Creating {self.args.tenants} municipalities and their admins ...")
        await self.municipalities()
        self.start_serve()
        await self.healthy()
        for n, tenant in enumerate(self.tenants):
            t0 = time.perf_counter()
            await self.register(n, tenant)
            say(f"  municipality {n + 1}/{len(self.tenants)}: plugins enabled, "
                f"{sum(s.tenant == tenant for s in self.sites)} sites, {self.args.integrators} integrator tokens "
                f"via GraphQL in {time.perf_counter() - t0:.1f} s")
        await self.over_http()
        if self.args.service_seconds:
            await self.in_process()
        say("Checking at the database (owner role, app.tenant_id per municipality) ...")
        return await self.verify()

    def start_serve(self) -> None:
        env = {**os.environ, **self.settings.child_environment(),
               "SAMVERKA_RATE_LIMIT_PER_MINUTE": str(self.settings.rate_limit_per_minute),
               "SAMVERKA_DB_POOL_MAX": str(self.settings.pool_max_size)}
        with (self.tmp / "serve.log").open("wb") as log:
            prof = ["-m", "cProfile", "-o", str(self.tmp / "serve.prof")] if self.args.profile else []
            self.serve = subprocess.Popen([sys.executable, *prof, "-m", "backend.cli", "serve"], env=env, cwd=ROOT,
                                          stdout=log, stderr=subprocess.STDOUT)

    async def healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.serve is not None
            if self.serve.poll() is not None:
                tail = "\n".join((self.tmp / "serve.log").read_text(errors="replace").splitlines()[-15:])
                raise RuntimeError(f"samverka serve exited with {self.serve.returncode}:\n{tail}")
            try:
                async with httpx.AsyncClient() as http:
                    if (await http.get(f"{self.settings.public_url}/healthz", timeout=2)).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("samverka serve did not come up in 60 s")


def classify(code: str | None, message: str) -> tuple[str, Any]:
    """CONFLICT for want of a free compartment is the expected refusal; anything else is an error."""
    if code == api.Conflict.code.value and message.startswith("No "):
        return "conflict", None
    return "error", f"{code}: {message}"


def report(bench: Bench, checks: dict[str, Any]) -> bool:
    a = bench.args
    mixed = sum(s.compartments for s in bench.sites if s.group == "http mixed")
    print(f"\nLoad: {a.integrators} integrators, each with a token in each of {a.tenants} municipalities.\n"
          f"  mixed: {a.sites} sites x {a.lockers} lockers x {len(LAYOUT)} compartments per municipality ({mixed} in "
          "all; per locker chilled S,S,M,M,L / frozen S,M,L / ambient S,M,L,XL), random class and size, windows of "
          f"1-6 h starting in the next {a.days} days, each held for the window + "
          f"{HOLD_AFTER / timedelta(hours=1):.0f} h (drop-off grace, pickup, return);\n"
          f"  hot spot: {a.hot_rounds} rounds x {a.integrators} integrators x {a.hot_tries} tries at once at one site "
          f"of {a.hot_compartments} chilled M compartments, the same 2 h window within a round;\n"
          f"  spread: {a.integrators} requests at once at another such site, windows whose holds do not overlap, no "
          f"window asked for more than {a.hot_compartments} times: all fit.\n"
          f"samverka serve: one process, rate limit {bench.settings.rate_limit_per_minute:,}/min (raised so the "
          f"limiter does not dominate), DB pool {bench.settings.pool_max_size} (the service phases use a pool of the "
          f"same size); no worker. {os.cpu_count()} cores shared by everything.")
    print(f"\n{'phase':17}{'s':>5}{'attempts':>9}{'att/s':>7}{'reserved':>9}{'res/s':>7}{'conflicts':>10}"
          f"{'false':>6}{'errors':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}  cores: serve postgres bench others")
    for p in bench.phases:
        ms = [x * 1000 for x in p.latencies]
        cpu = "".join(f"{p.cpu[k]:6.2f}" for k in (*PROCESSES, "others"))
        print(f"{p.name:17}{p.seconds:5.1f}{p.attempts:9,}{p.attempts / p.seconds:7.0f}{len(p.reserved):9,}"
              f"{len(p.reserved) / p.seconds:7.1f}{len(p.conflicts):10,}{p.false_conflicts or 0:6}"
              f"{sum(p.errors.values()):7}{pct(ms, 50):8.1f}{pct(ms, 95):8.1f}{pct(ms, 99):8.1f}       {cpu}")
    print("  false: CONFLICTs refused although a fitting compartment was free for the whole hold at the end, and so "
          "all along\n  (holds are only ever added here). others: CPU of processes not in this benchmark.")
    if "example" in checks:
        print(f"  e.g. {checks['example']}")
    for p in bench.phases:
        split = ", ".join(f"{k} p50 {pct(v, 50) * 1000:.0f} / p99 {pct(v, 99) * 1000:.0f} ms"
                          for k, v in sorted(p.by_outcome.items()))
        rounds = f"; reserved per round {p.rounds}" if p.rounds else ""
        expected = f"; reserved {len(p.reserved)} of {p.expected} expected" if p.expected is not None else ""
        cpu = ", ".join(f"{k} {p.cpu[k] * p.seconds / p.attempts * 1000:.1f}" for k in PROCESSES if p.cpu[k] > 0.01)
        races = f"; lost races (inserts the exclusion constraint refused, retried) {p.races}" if p.races else ""
        best = f"; best 5 s {p.best_rate():.0f} reserved/s" if not p.expected else ""
        print(f"  {p.name}: {split}{rounds}{expected}{best}\n    CPU ms per attempt: {cpu}{races}")
        for error, count in p.errors.most_common(5):
            print(f"    {count} x {error}")
    if any(p.cpu["others"] > 0.2 for p in bench.phases):
        print("  DISTURBED: other processes used CPU during some phases (others > 0.2 cores); rates are understated.")
    reserved = sum(len(p.reserved) for p in bench.phases)
    errors = sum(sum(p.errors.values()) for p in bench.phases)
    hot = [p for p in bench.phases if p.rounds]
    hot_ok = all(r == a.hot_compartments for p in hot for r in p.rounds)
    spread = [p for p in bench.phases if p.expected is not None and not p.rounds]
    refused = sum(p.expected - len(p.reserved) for p in spread if p.expected is not None)
    off = checks["missing"] + checks["phantom"] + checks["wrong compartment"] + checks["seen twice"]
    print(f"\nAt the database: {checks['constraint']}\n"
          f"  deliveries stored {checks['stored']:,}, successes seen by clients {reserved:,}; seen but not stored "
          f"{checks['missing']}, stored but never seen {checks['phantom']}, stored on another compartment "
          f"{checks['wrong compartment']}, one id answered twice {checks['seen twice']}")
    results = [
        ("zero double bookings (overlapping holds on one compartment)", f"{checks['overlapping pairs']} pairs",
         checks["overlapping pairs"] == 0),
        ("every success stored exactly once, nothing else stored", f"{off} off",
         off == 0 and checks["stored"] == reserved),
        ("no errors other than CONFLICT", f"{errors}", errors == 0),
        ("hot spot: exactly one success per compartment per round", f"{sum(sum(p.rounds) for p in hot)} reserved",
         hot_ok),
    ]
    print()
    for label, value, ok in results:
        print(f"{label:62}{value:>16}  {'PASS' if ok else 'FAIL'}")
    false = sum(p.false_conflicts or 0 for p in bench.phases)
    print(f"{'(finding) no CONFLICT while a fitting compartment was free':62}{f'{false} false':>16}  "
          f"{'PASS' if false == 0 else 'MISS'}   (spread: {refused} of its requests refused; exit code unaffected)")
    return all(ok for *_, ok in results)


def main() -> None:
    parser = argparse.ArgumentParser(description="Deliveries benchmark: reservations/s and zero double bookings")
    parser.add_argument("--integrators", type=int, default=50, help="concurrent integrators (HTTP clients, tasks)")
    parser.add_argument("--seconds", type=float, default=20, help="length of the mixed HTTP phase")
    parser.add_argument("--service-seconds", type=float, default=10, help="mixed service-level phase; 0 skips it")
    parser.add_argument("--tenants", type=int, default=2, help="municipalities")
    parser.add_argument("--sites", type=int, default=3, help="mixed sites per municipality (per phase)")
    parser.add_argument("--lockers", type=int, default=3, help=f"lockers per mixed site ({len(LAYOUT)} compartments)")
    parser.add_argument("--days", type=int, default=7, help="windows start within this many days (max 29)")
    parser.add_argument("--hot-compartments", type=int, default=4)
    parser.add_argument("--hot-rounds", type=int, default=5)
    parser.add_argument("--hot-tries", type=int, default=2, help="requests per integrator per hot-spot round")
    parser.add_argument("--pool", type=int, default=Settings(data_dir=Path()).pool_max_size,
                        help="the server's database pool (SAMVERKA_DB_POOL_MAX) and the service phase's")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="run samverka serve under cProfile; print its top")
    args = parser.parse_args()
    if not 1 <= args.days <= 29 or args.hot_rounds > 14:
        parser.error("--days must be 1-29 and --hot-rounds at most 14 (bookings reach at most 30 days ahead)")
    tmp = Path(tempfile.mkdtemp(prefix="samverka-bench-deliveries-"))
    servers = EmbeddedServers(tmp / "data")
    bench: Bench | None = None
    passed = False
    try:
        say(f"Starting embedded PostgreSQL + Redis in {tmp} ...")
        database_url, redis_url = servers.start()
        settings = Settings(data_dir=tmp / "data", database_url=database_url, redis_url=redis_url,
                            environment="production", port=free_port(), rate_limit_per_minute=10_000_000,
                            pool_max_size=args.pool)
        asyncio.run(migrate(settings))
        bench = Bench(tmp, settings, servers, args)
        checks = asyncio.run(bench.run())
        passed = report(bench, checks)
    finally:
        if bench and bench.serve:  # uvicorn re-raises the signal after its shutdown: SIGINT lets cProfile write
            bench.serve.send_signal(signal.SIGINT if args.profile else signal.SIGTERM)
            try:
                bench.serve.wait(20)
            except subprocess.TimeoutExpired:
                bench.serve.kill()
        if args.profile and (tmp / "serve.prof").exists():
            print("\nsamverka serve (event loop thread), cProfile: top 25 by own time, then the deliveries code by "
                  "cumulative time:")
            stats = pstats.Stats(str(tmp / "serve.prof"))
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats("plugins/deliveries", 15)
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
