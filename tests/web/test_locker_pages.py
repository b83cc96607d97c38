"""The lockers, deliveries and staff pages in a real browser on the live server, with the test
playing the gateway on Redis (the live worker ingests what it pushes): an admin watches a
compartment's temperature change live and acknowledges an alarm, and follows a delivery whose
cold chain broke; staff on a phone see today's pickups, open a compartment and report a fault with
a photo (an oversized one gets the 413 page). axe on every page; screenshots of each."""

from __future__ import annotations

import asyncio
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from opcua_gateway import contracts
from opcua_gateway.contracts import (
    CodeEntered,
    CompartmentState,
    Connectivity,
    SizeClass,
    StateChanged,
    TemperatureClass,
)
from tests.conftest import Server, World
from tests.e2e.test_deliveries_api import Setup, book, setup
from tests.e2e.test_lockers_api import AUDIT, _play_gateway, compartments, data, eventually, register
from tests.integration.test_lockers_ingest import alarm_raised, health, state, telemetry
from tests.web.conftest import check_axe, shot

LOCKERS = "/web/plugins/lockers"
DELIVERIES = "/web/plugins/deliveries"
ONE = """query($id: ID!) { delivery(id: $id) { status coldChain { broken } } }"""
ENABLE_FAULTS = """mutation { enablePlugin(pluginId: "fault_reports") { __typename ... on Error { code message } } }"""
FAULTS = "{ faultReports { category description hasPhoto reportedBy compartmentId } }"


@pytest.fixture
async def redis(server: Server) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.settings.redis_url or "")
    yield client
    await client.aclose()


async def push(redis: Redis, *events: contracts.Struct) -> None:
    """Play the gateway: put events on the stream the live server's worker ingests."""
    for event in events:
        await redis.xadd(contracts.EVENTS_STREAM, {"m": contracts.encode(event)})


@dataclass
class Locker:
    """The test's hands at one locker: events with its endpoint, its id and rising seqs."""

    redis: Redis
    endpoint_id: str
    vendor_id: str
    seq: count[int] = field(default_factory=lambda: count(100))

    def base(self, compartment: str | None, at: datetime | None = None) -> dict[str, Any]:
        return {
            "event_id": uuid.uuid4().hex,
            "endpoint_id": self.endpoint_id,
            "locker": self.vendor_id,
            "compartment": compartment,
            "seq": next(self.seq),
            "at": at or datetime.now(UTC),
        }

    async def door(self, key: str, *, open_: bool, occupied: bool) -> None:
        s = CompartmentState(
            compartment=key,
            temperature_class=TemperatureClass.CHILLED,
            size_class=SizeClass.M,
            door_open=open_,
            locked=not open_,
            occupied=occupied,
            temperature_c=4.0,
        )
        await push(self.redis, StateChanged(**self.base(key), state=s, changed=("door_open", "occupied")))

    async def type_code(self, code: str) -> None:
        await push(self.redis, CodeEntered(**self.base(None), code=code))

    async def temperature(self, key: str, value: float, at: datetime) -> None:
        await push(self.redis, contracts.Telemetry(**self.base(key, at), temperature_c=value))


async def dropped_off(server: Server, world: World, redis: Redis, *, broken: bool = False) -> tuple[Setup, str, Locker]:
    """A delivery booked by an integrator, dropped off by the courier, the pickup code sent by SMS;
    with ``broken`` the goods then stay at 12 °C for 12 minutes (10 allowed)."""
    s = await setup(server, world.a.admin_email)
    created = await book(s.integrator, s.site_id)
    assert created["__typename"] == "DeliveryCreated", created
    delivery_id = created["delivery"]["id"]
    vendor_id = data(await s.admin("{ lockers { vendorLockerId } }"), "lockers")[0]["vendorLockerId"]
    locker = Locker(redis, s.endpoint_id, vendor_id)
    await locker.type_code(created["dropOffCode"])

    async def unlock_sent() -> Any:
        return await redis.xlen(contracts.commands_stream(s.endpoint_id))

    assert await eventually(unlock_sent)
    await locker.door("1", open_=True, occupied=False)
    await locker.door("1", open_=False, occupied=True)
    if broken:
        t0 = datetime.now(UTC)
        for minutes, value in ((1, 12.0), (7, 12.5), (13, 11.0)):
            await locker.temperature("1", value, t0 + timedelta(minutes=minutes))

    async def settled() -> Any:
        one = data(await s.admin(ONE, {"id": delivery_id}), "delivery")
        return one["status"] == "PICKUP_CODE_SENT" and one["coldChain"]["broken"] == broken

    assert await eventually(settled), data(await s.admin(ONE, {"id": delivery_id}), "delivery")
    await redis.delete(contracts.commands_stream(s.endpoint_id))  # the drop-off's unlock is done
    return s, delivery_id, locker


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_an_admin_watches_a_compartments_temperature_change_live_and_acknowledges_an_alarm(
    server: Server, world: World, admin_page: Page, redis: Redis
) -> None:
    r = await register(server, world.a.admin_email, locker="L1")
    now = datetime.now(UTC)
    await push(
        redis,
        health(r.endpoint_id, 1, Connectivity.ONLINE),
        state(r.endpoint_id, 1, door_open=False, temperature_c=4.0, at=now - timedelta(hours=2)),
        *[telemetry(r.endpoint_id, 2 + i, 4.0 + i / 2, at=now - timedelta(minutes=90 - 10 * i)) for i in range(6)],
    )

    async def ingested() -> object:
        return (await compartments(r.admin, r.locker_id))["1"]["temperatureC"] == 6.5

    assert await eventually(ingested)
    page = admin_page
    await page.goto(LOCKERS)
    await check_axe(page)
    await shot(page, "lockers-sites")
    await page.get_by_role("link", name="Vårdcentralen").click()
    await check_axe(page)
    await shot(page, "lockers-site")
    await page.get_by_role("link", name="Skåp 1").click()
    temperature = page.locator(f"#row-{r.compartments['1']} [data-temperature]")
    await expect(temperature).to_have_text("6,5 °C")
    await check_axe(page)
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))

    await push(redis, telemetry(r.endpoint_id, 20, 9.5))
    await expect(temperature).to_have_text("9,5 °C", timeout=15_000)  # the fragment polled: no reload
    assert loads == [] and page.url.endswith(f"/lockers/{r.locker_id}")
    await push(redis, alarm_raised(r.endpoint_id, 21, f"vendor-{uuid.uuid4().hex[:6]}"))
    acknowledge = page.get_by_role("button", name="Kvittera")
    await expect(acknowledge).to_be_visible(timeout=15_000)
    await shot(page, "lockers-locker-live")
    await check_axe(page)
    await acknowledge.click()
    await expect(page.locator(".flash")).to_have_text("Larmet är kvitterat.")
    await expect(page.locator(f"#row-{r.compartments['1']}")).to_contain_text(f"Kvitterat av {world.a.admin_email}")
    acknowledged = data(await r.admin(AUDIT, {"action": "lockers.alarm_acknowledged"}), "auditLog")["nodes"]
    assert [n["actorLabel"] for n in acknowledged] == [world.a.admin_email]

    await page.get_by_role("link", name="Fack 1").click()
    await expect(page.locator("figure.chart svg title")).to_have_text("Temperaturen i fack 1 de senaste 24 timmarna")
    await page.get_by_text("Siffrorna i diagrammet").click()
    assert await page.locator("details tbody tr").count() == 7  # every reading, oldest first
    await expect(page.locator("details tbody tr").last).to_contain_text("9,5 °C")
    await check_axe(page)
    await shot(page, "lockers-compartment-chart")
    await page.get_by_role("link", name="Pausa direktuppdateringen").click()
    assert await page.locator("[hx-trigger]").count() == 0
    await page.goto(f"{LOCKERS}/alarms?show=all")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody tr")).to_contain_text("Larm från skåpet")
    await check_axe(page)
    await shot(page, "lockers-alarms")


async def test_an_admin_follows_a_delivery_whose_cold_chain_broke(
    server: Server, world: World, admin_page: Page, redis: Redis
) -> None:
    _, delivery_id, _ = await dropped_off(server, world, redis, broken=True)
    page = admin_page
    await page.goto(DELIVERIES)
    await page.get_by_label("Status").select_option("pickup_code_sent")
    await page.get_by_label("Kylkedja").select_option("broken")
    await page.get_by_role("button", name="Filtrera").click()
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("Hämtkod skickad")
    await expect(rows).to_contain_text("Bruten")
    await check_axe(page)
    await shot(page, "deliveries-list")
    await page.goto(f"{DELIVERIES}/?status=picked_up")
    await expect(rows).to_have_text("Inga leveranser matchar filtret.")
    bad = await page.goto(f"{DELIVERIES}/?status=lost")
    assert bad is not None and bad.status == 400
    await expect(page.locator(".error-summary")).to_contain_text("Välj en status i listan.")
    await check_axe(page)

    await page.goto(f"{DELIVERIES}/cold-chain")
    await page.locator("tbody tr a").first.click()
    assert page.url.endswith(f"/{delivery_id}")
    await expect(page.locator("#cold-chain-broken")).to_contain_text("Kylkedjan är bruten.")
    transitions = page.locator("table:has(#transitions-caption) tbody tr")
    await expect(transitions).to_have_count(3)
    await expect(transitions.nth(2)).to_contain_text("Inlämnad → Hämtkod skickad")
    notices = page.locator("table:has(#notifications-caption) tbody")
    await expect(notices).to_contain_text("Hämtkod till mottagaren")
    await expect(notices).to_contain_text("+46701234567")
    await expect(page.locator("table:has(#cold-caption)")).to_contain_text("12,5 °C")
    assert "Hämtkod:" not in await page.content()  # the message's text (with the code) is never shown
    await check_axe(page)
    await shot(page, "deliveries-detail-cold-chain-broken")
    missing = await page.goto(f"{DELIVERIES}/{uuid.uuid4()}")
    assert missing is not None and missing.status == 404


async def test_staff_on_a_phone_pick_up_open_a_compartment_and_report_faults(
    server: Server, world: World, staff_page: Page, redis: Redis
) -> None:
    s, _, _ = await dropped_off(server, world, redis)
    assert data(await s.admin(ENABLE_FAULTS), "enablePlugin")["__typename"] == "PluginInfo"
    locker_id = data(await s.admin("{ lockers { id } }"), "lockers")[0]["id"]
    elsewhere = await register(server, world.b.admin_email, locker="B1")
    page = staff_page
    await page.goto("/web/staff")
    await check_axe(page)
    await shot(page, "staff-home")
    await page.get_by_role("link", name="Dagens hämtningar").click()
    pickup = page.locator("section.pickup")
    await expect(pickup).to_have_count(1)
    await expect(pickup).to_contain_text("Hemtjänst Norr")
    await expect(pickup).to_contain_text("Hämtkoden har skickats till mottagaren med SMS.")
    await expect(pickup).to_contain_text("Vårdcentralen")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await check_axe(page)
    await shot(page, "staff-pickups")

    await page.get_by_role("link", name="Öppna facket utan kod").click()
    await expect(page.get_by_label("Fack")).to_have_value(s.compartments["1"])
    await check_axe(page)
    await shot(page, "staff-open")
    gateway = asyncio.create_task(_play_gateway(redis, s.endpoint_id))
    await page.get_by_role("button", name="Öppna facket").click()
    command = await gateway
    await expect(page.locator("#outcome")).to_contain_text("Öppnat.")
    assert command.compartment == "1" and command.requested_by == world.a.staff_email
    await check_axe(page)
    await shot(page, "staff-opened")
    opened = data(await s.admin(AUDIT, {"action": "lockers.open_requested"}), "auditLog")["nodes"]
    assert [n["actorLabel"] for n in opened].count(world.a.staff_email) == 1  # besides the courier's drop-off

    await page.goto("/web/plugins/lockers/open")  # another municipality's compartment: not offered, and refused alike
    assert await page.locator(f"option[value='{elsewhere.compartments['1']}']").count() == 0
    await page.evaluate(
        "id => document.querySelector('#f-compartment').add(new Option('B', id, true, true))",
        elsewhere.compartments["1"],
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Öppna facket").click()
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")
    assert await redis.xlen(contracts.commands_stream(elsewhere.endpoint_id)) == 0

    await page.goto("/web/plugins/fault_reports/report")
    await page.get_by_label("Var är felet?").select_option(f"{locker_id}/{s.compartments['1']}")
    await page.get_by_label("Dörr eller lås").check()
    await page.get_by_label("Beskriv felet").fill("Dörren går trögt. <script>alert('x')</script>")
    await page.get_by_label("Foto (frivilligt)").set_input_files(
        files=[{"name": "dorr.png", "mimeType": "image/png", "buffer": png()}]
    )
    await check_axe(page)
    await shot(page, "staff-fault")
    await page.get_by_role("button", name="Skicka felanmälan").click()
    await expect(page.locator(".flash")).to_have_text("Tack. Felet är anmält.")
    [report] = data(await s.admin(FAULTS), "faultReports")
    assert report == {
        "category": "DOOR_OR_LOCK",
        "description": "Dörren går trögt. <script>alert('x')</script>",
        "hasPhoto": True,
        "reportedBy": world.a.staff_email,
        "compartmentId": s.compartments["1"],
    }

    await page.goto("/web/plugins/fault_reports/report")
    await page.get_by_role("button", name="Skicka felanmälan").click()  # nothing chosen: the browser asks
    assert page.url.endswith("/web/plugins/fault_reports/report")
    await page.get_by_label("Var är felet?").select_option(locker_id)
    await page.get_by_label("Temperatur").check()
    await page.get_by_label("Beskriv felet").fill("Det är varmt i skåpet.")
    await page.get_by_label("Foto (frivilligt)").set_input_files(
        files=[{"name": "stor.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + b"\0" * (5 * 2**20)}]
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Skicka felanmälan").click()
    await expect(page.locator("h1")).to_have_text("Filen är för stor")
    await check_axe(page)
    await shot(page, "staff-fault-too-large")
    await page.go_back()  # far larger: refused on its declared length, before it is read
    await page.get_by_label("Foto (frivilligt)").set_input_files(
        files=[{"name": "enorm.png", "mimeType": "image/png", "buffer": png() + b"\0" * (12 * 2**20)}]
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Skicka felanmälan").click()
    await expect(page.locator("h1")).to_have_text("Filen är för stor")
    assert len(data(await s.admin(FAULTS), "faultReports")) == 1  # nothing saved
