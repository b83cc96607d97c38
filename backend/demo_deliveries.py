"""The demo integrator of ``samverka up``: the e-shop Demohandeln books deliveries on each
municipality's simulated lockers and plays the people who carry them, so the whole flow can be
watched: one line per step here, the same in GraphQL (``deliveries``, ``delivery(id)``,
``deliveryUpdates``) and in the worker's log (the SMS and e-mail it logs as sent).

The e-shop does everything through the public GraphQL API with its own token and hears back
through signed webhooks to a small receiver in this process. Couriers and recipients act at the
simulated lockers through the simulators' control interface (a Redis list, docs/design/lockers.md
"People at the demo lockers"). One shortcut: the recipient reads the pickup code from the SMS's
row in the notification outbox. Set-up as each municipality's admin is ``backend.demo``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.demo import INTEGRATOR, INTEGRATOR_FILE, PEOPLE_KEY, DemoError, demo_dir
from backend.demo_people import Compartment, People
from backend.demo_webhooks import Webhooks
from backend.settings import Settings
from tenants.database import Database

RECIPIENTS = (
    ("CITIZEN", "Astrid Lindqvist"),
    ("CITIZEN", "Karl-Erik Johansson"),
    ("CITIZEN", "Maj-Britt Svensson"),
    ("STAFF_UNIT", "Hemtjänst Norr"),
    ("STAFF_UNIT", "Korttidsboendet Solgården"),
)
PICKUP_CODE = re.compile(r"Hämtkod: ([0-9A-Za-z]+)")
FINAL_EVENTS = ("delivery.picked_up", "delivery.returned", "delivery.cancelled")
# Errors a step can meet while the platform or the lockers are busy or restarting: the step is told, the demo goes on.
STEP_ERRORS = (DemoError, httpx.HTTPError, RedisError, OSError)  # OSError includes TimeoutError
Say = Callable[[str], None]


class Fate(str, Enum):
    PICKED_UP = "picked up"
    FORGOTTEN = "forgotten"  # nobody comes: it expires and the courier takes it back
    DOOR_LEFT_OPEN = "door left open"  # the goods warm up, the cold chain breaks; then picked up


@dataclass(frozen=True)
class Timings:
    """Seconds; ranges are drawn from at random. ``max_active`` bounds a municipality's open
    deliveries so the lockers never fill up."""

    first: tuple[float, float] = (10.0, 20.0)  # the gateway connects to the lockers meanwhile
    between: tuple[float, float] = (20.0, 40.0)
    courier: tuple[float, float] = (3.0, 10.0)
    recipient: tuple[float, float] = (10.0, 60.0)
    at_door: tuple[float, float] = (2.0, 5.0)  # the door stands open while goods go in or out
    door_left_open: float = 45.0
    wait: float = 30.0  # for a door to open or an SMS to arrive
    window_minutes: float = 10.0
    max_active: int = 4
    fates: tuple[tuple[Fate, int], ...] = ((Fate.PICKED_UP, 7), (Fate.FORGOTTEN, 2), (Fate.DOOR_LEFT_OPEN, 2))


@dataclass(frozen=True)
class Municipality:
    """What ``backend.demo.prepare_integrator`` found out as the municipality's admin."""

    slug: str
    name: str
    tenant_id: UUID
    token: str
    compartments: dict[str, Compartment]

    @classmethod
    def of(cls, saved: dict[str, Any]) -> Municipality:
        compartments = {
            cid: Compartment(
                cid, c["site_id"], c["vendor"], c["locker"], int(c["key"]), c["temperature_class"], c["size_class"]
            )
            for cid, c in saved["compartments"].items()
        }
        return cls(saved["slug"], saved["municipality"], UUID(saved["tenant_id"]), saved["token"], compartments)


CREATE = """mutation($i: CreateDeliveryInput!) { createDelivery(input: $i) { __typename
  ... on DeliveryCreated { dropOffCode delivery { id reference compartmentId } } ... on Error { code message } } }"""
HOOK = """mutation($url: String!) { setWebhookEndpoint(url: $url) { __typename
  ... on WebhookEndpointSet { secret } ... on Error { code message } } }"""
ROTATE = """mutation { rotateWebhookSecret { __typename ... on WebhookSecretRotated { secret }
  ... on Error { code message } } }"""


class Shop:
    """Demohandeln in one municipality: books deliveries and sends people to the lockers."""

    def __init__(
        self,
        url: str,
        m: Municipality,
        people: People,
        db: Database,
        timings: Timings,
        rng: random.Random,
        say: Say,
        fate: Callable[[Compartment], Fate] | None = None,
    ) -> None:
        self.url, self.m, self.people, self.db, self.t, self.rng = url, m, people, db, timings, rng
        self._say = say
        self.fate = fate or self.random_fate
        self.active: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def say(self, reference: str, text: str) -> None:
        self._say(f"demo: {self.m.name} {reference} {text}")

    async def api(self, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self.m.token}"},
            )
        body = response.json()
        if body.get("errors"):
            raise DemoError(f"{field}: {body['errors'][0].get('message')}")
        result: dict[str, Any] = body["data"][field]
        if "code" in result:
            raise DemoError(f"{field}: {result['message']}")
        return result

    async def listen(self, webhooks: Webhooks) -> None:
        """Point the e-shop's webhook endpoint at this run's receiver, with a secret we know."""
        url = webhooks.add(self.m.slug, self.on_webhook)
        secret = (await self.api(HOOK, {"url": url}, "setWebhookEndpoint")).get("secret")
        if secret is None:  # the endpoint was set on an earlier start: its secret was shown then
            secret = (await self.api(ROTATE, {}, "rotateWebhookSecret"))["secret"]
        webhooks.secrets[self.m.slug] = str(secret)

    def spawn(self, story: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(story)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self) -> None:
        """Book a delivery every so often (while fewer than ``max_active`` are open) and play it out."""
        await asyncio.sleep(self.rng.uniform(*self.t.first))
        while True:
            if len(self.active) < self.t.max_active:
                try:
                    self.spawn(self.story(*await self.book()))
                except STEP_ERRORS as exc:
                    self._say(f"demo: {self.m.name} could not book a delivery: {exc}")
            await asyncio.sleep(self.rng.uniform(*self.t.between))

    async def book(self) -> tuple[str, str, str, Compartment]:
        site = self.rng.choice(sorted({c.site_id for c in self.m.compartments.values()}))
        here = [c for c in self.m.compartments.values() if c.site_id == site]
        temperature_class = self.rng.choice(sorted({c.temperature_class for c in here}))
        size_class = self.rng.choice(sorted({c.size_class for c in here if c.temperature_class == temperature_class}))
        kind, name = self.rng.choice(RECIPIENTS)
        now = datetime.now(UTC)
        created = await self.api(
            CREATE,
            {
                "i": {
                    "reference": f"ORD-{self.rng.randrange(10000, 100000)}",
                    "siteId": site,
                    "temperatureClass": temperature_class,
                    "sizeClass": size_class,
                    "recipient": {"kind": kind, "name": name, "phone": f"+4670{self.rng.randrange(10**7):07d}"},
                    "windowStart": now.isoformat(),
                    "windowEnd": (now + timedelta(minutes=self.t.window_minutes)).isoformat(),
                }
            },
            "createDelivery",
        )
        delivery = created["delivery"]
        self.active.add(delivery["id"])
        c = self.m.compartments.get(delivery["compartmentId"])
        if c is None:  # a locker registered after the set-up: nobody here knows where it is
            raise DemoError(f"{delivery['reference']} went to a compartment the demo does not know")
        self.say(delivery["reference"], f"booked for {name}, {c.temperature_class.lower()} in {c.label}")
        return delivery["id"], delivery["reference"], created["dropOffCode"], c

    def random_fate(self, c: Compartment) -> Fate:
        """What becomes of a delivery once it is in the locker (a warm door only where it matters)."""
        fates = [(f, w) for f, w in self.t.fates if c.temperature_class != "AMBIENT" or f is not Fate.DOOR_LEFT_OPEN]
        return self.rng.choices([f for f, _ in fates], [w for _, w in fates])[0]

    async def story(self, delivery_id: str, reference: str, code: str, c: Compartment) -> None:
        try:
            await asyncio.sleep(self.rng.uniform(*self.t.courier))
            await self.at_the_door(c, code, leave_goods=True)  # the courier, with the drop-off code
            self.say(reference, f"dropped off in {c.label}")
            fate = self.fate(c)
            if fate is Fate.FORGOTTEN:
                self.say(reference, "the recipient does not come: it will expire and go back")
                return  # the courier comes back when the delivery.expired webhook says so
            pickup = await self.sms_code(delivery_id)
            if fate is Fate.DOOR_LEFT_OPEN:
                await asyncio.sleep(self.rng.uniform(1.0, 3.0))
                await self.people.act(c, "open_door", compartment=c.number, by="key:staff")
                self.say(reference, f"staff opened {c.label} and left the door open: the goods warm up")
                await asyncio.sleep(self.t.door_left_open)
                shut = await self.people.act(c, "close_door", compartment=c.number, occupied=True)
                self.say(reference, f"door of {c.label} closed again at {shut['temperature_c']:.1f} °C")
            await asyncio.sleep(self.rng.uniform(*self.t.recipient))
            await self.at_the_door(c, pickup, leave_goods=False)  # the recipient, with the SMS's code
            self.say(reference, f"picked up from {c.label} by the recipient")
        except STEP_ERRORS as exc:
            self.say(reference, f"stopped: {exc}")

    async def at_the_door(self, c: Compartment, code: str, *, leave_goods: bool) -> None:
        """Type ``code``, wait for the door to open, put the goods in or take them out, shut it."""
        await self.people.open_with_code(c, code, self.t.wait)
        await asyncio.sleep(self.rng.uniform(*self.t.at_door))  # people take a moment with a parcel
        await self.people.act(c, "close_door", compartment=c.number, occupied=leave_goods)

    async def sms_code(self, delivery_id: str) -> str:
        """The pickup code from the recipient's SMS. In reality the SMS reaches a phone; the demo
        reads the text from the notification outbox (as the app role, in this tenant only), once
        the worker has sent it (the logging SMS sender, in development)."""
        deadline = asyncio.get_running_loop().time() + self.t.wait
        while asyncio.get_running_loop().time() < deadline:
            async with self.db.tenant(self.m.tenant_id) as scope:
                body = await scope.connection.fetchval(
                    """SELECT body FROM notification WHERE tenant_id = $1 AND subject_kind = 'delivery'
                       AND subject_id = $2 AND topic = 'deliveries.pickup_code' AND status = 'sent'
                       ORDER BY created_at DESC LIMIT 1""",
                    self.m.tenant_id,
                    UUID(delivery_id),
                )
            if body and (found := PICKUP_CODE.search(body)):
                return found.group(1)
            await asyncio.sleep(0.5)
        raise DemoError("no SMS with a pickup code reached the recipient")

    async def on_webhook(self, event: str, data: dict[str, Any]) -> None:
        delivery = data.get("delivery") or {}
        reference = str(delivery.get("reference", "?"))
        self.say(reference, f"webhook {event}")
        if event in FINAL_EVENTS:
            self.active.discard(str(delivery.get("id")))
        c = self.m.compartments.get(str(delivery.get("compartmentId")))
        code = (data.get("returnCode") or {}).get("code")
        if event == "delivery.expired" and c is not None and code:
            self.spawn(self.take_back(reference, c, str(code)))

    async def take_back(self, reference: str, c: Compartment, code: str) -> None:
        """The courier takes an expired delivery back with the return code the webhook carried."""
        try:
            await asyncio.sleep(self.rng.uniform(*self.t.courier))
            await self.at_the_door(c, code, leave_goods=False)
            self.say(reference, f"taken back from {c.label} by the courier (return code)")
        except STEP_ERRORS as exc:
            self.say(reference, f"return stopped: {exc}")


async def run(shops: list[Shop], webhooks: Webhooks, stop: asyncio.Event) -> None:
    """Every shop books and plays out deliveries until ``stop`` is set; then all is cancelled."""
    for shop in shops:
        await shop.listen(webhooks)
    loops = [asyncio.create_task(shop.run(), name=f"demo-{shop.m.slug}") for shop in shops]
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopping, *loops], return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopping}:
            task.result()  # a shop's loop ended only by a bug: let it show
    finally:
        stories = [t for shop in shops for t in shop.tasks]
        for task in [stopping, *loops, *stories]:
            task.cancel()
        await asyncio.gather(stopping, *loops, *stories, return_exceptions=True)


async def serve(settings: Settings, saved: list[dict[str, Any]], key: str) -> None:
    """The composition root of the demo integrator's process."""
    from backend.database import open_database

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    municipalities = [Municipality.of(m) for m in saved]
    db = open_database(settings)
    await db.start(max_size=2)
    redis = Redis.from_url(settings.redis_url or "")
    webhooks = await Webhooks.start(print_line)
    try:
        people = People(redis, key)
        shops = [
            Shop(settings.public_url, m, people, db, Timings(), random.Random(), print_line) for m in municipalities
        ]
        print_line(f"demo: {INTEGRATOR} books deliveries in {', '.join(m.name for m in municipalities)}")
        await run(shops, webhooks, stop)
    finally:
        await webhooks.close()
        await redis.aclose()
        await db.close()
    print_line(f"demo: {INTEGRATOR} stopped")


def print_line(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write, so lines of the other processes do not cut into it
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description="The demo integrator of `samverka up` (Demohandeln).")
    parser.add_argument("--file", type=Path, help=f"the set-up (default: <data dir>/demo/{INTEGRATOR_FILE})")
    parser.add_argument("--people-key", default=PEOPLE_KEY, help="the simulators' Redis list for people's actions")
    args = parser.parse_args()
    settings = Settings.from_env()
    path: Path = args.file or demo_dir(settings) / INTEGRATOR_FILE
    asyncio.run(serve(settings, json.loads(path.read_text()), args.people_key))


if __name__ == "__main__":
    main()
