"""The federation's pages and the procurement plugin's pages in a real browser on the live server.

Data is made through the service layer the GraphQL resolvers call: deliveries booked with
``deliveries.service`` and dropped off by locker events through the lockers ingest, a joint
procurement from the members' needs to a signed contract with a cost key through the procurement
services. Every page is checked with axe and photographed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from playwright.async_api import Locator, Page, expect
from redis.asyncio import Redis

from backend.lib import utcnow
from plugins import state as plugin_state
from plugins.lockers.hooks import subscribers
from plugins.lockers.ingest import Ingest
from plugins.procurement import award, bids, contracts, contracts_calloffs, costs, evaluation, needs, setup, setup_items
from plugins.procurement.costs_rules import Method
from plugins.procurement.federation import Caller
from plugins.procurement.rules import ContractKind
from plugins.registry import PluginRegistry
from tenants.access import Actor, Principal, Role
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_deliveries import CONFIG, Locker, create, install, new
from tests.integration.test_lockers_ingest import QUIET, own_streams
from tests.integration.test_lockers_ingest import redis as redis  # a fixture
from tests.integration.test_procurement_bidding import register, vendor_caller
from tests.web.conftest import check_axe, shot

ACTOR = Actor.system("test")
CATEGORY = "Leveransskåp som tjänst"
VENDOR = "Kylbox Service AB"
FEDERATION_REPORTS = ("/web/federation/deliveries/savings", "/web/federation/procurement/costs")


def federation_admin(world: World) -> Caller:
    p = Principal(Actor("user", uuid.uuid4(), world.federation_admin_email), world.federation_id, True)
    return Caller(p, world.federation_id, None, None, True)


def municipality_admin(world: World, municipality: uuid.UUID) -> Caller:
    p = Principal(
        Actor("user", uuid.uuid4(), f"admin-{municipality}@test.example"),
        world.federation_id,
        memberships={municipality: frozenset({Role.TENANT_ADMIN})},
        tenant_id=municipality,
    )
    return Caller(p, world.federation_id, municipality, None, False)


async def enable(db: Database, tenant: uuid.UUID, plugin_id: str) -> None:
    async with db.tenant(tenant) as scope:
        await plugin_state.enable(scope, PluginRegistry.discover(), plugin_id, config=None, actor=ACTOR)


async def received_through_lockers(db: Database, redis: Redis, world: World, count: int) -> None:
    """``count`` deliveries booked in A and dropped off: the courier's code typed on the keypad, the
    door closed on the goods, as the lockers ingest hands these events to the deliveries plugin."""
    site = await install(db, world.a.id, config={**CONFIG, "minutes_saved_per_delivery": 30})
    streams = own_streams()
    ingest = Ingest(
        db, redis, streams=streams, tuning=QUIET, consumer="web", hooks=subscribers(PluginRegistry.discover())
    )
    await ingest.group.create()
    locker = Locker(site, redis, streams, ingest)
    for _ in range(count):
        created = await create(db, site, new(site))
        key = next(k for k, v in site.compartments.items() if v == created.row["compartment_id"])
        await locker.type(created.dropoff.code)
        await locker.send(locker.state(key, door_open=True, occupied=False))
        await locker.send(locker.state(key, door_open=False, occupied=True))


async def record_need(db: Database, world: World, tenant: uuid.UUID, value: int) -> uuid.UUID:
    new_need = needs.NewNeed(
        CATEGORY, "Tempererade skåp", "", Decimal(4), "st", Decimal(value), date.today() + timedelta(days=60)
    )
    async with db.tenant(tenant) as scope:
        row = await needs.record(scope, new_need, actor=ACTOR, today=date.today())
    return uuid.UUID(str(row["id"]))


@dataclass(frozen=True)
class Joint:
    procurement: uuid.UUID
    contract: uuid.UUID


async def joint_contract(db: Database, world: World, need_ids: list[uuid.UUID]) -> Joint:
    """The federation procures jointly from the needs: one lot, published, one vendor's bid,
    evaluated and awarded after the deadline, the contract signed once the standstill has ended
    (this calendar year and the next), A calls off, and the cost is split 70/30 from 1 January."""
    admin, now = federation_admin(world), utcnow()
    start = setup.NewProcurement(
        "Tempererade leveransskåp som tjänst", "", CATEGORY, ContractKind.SERVICES, True, 48, need_ids
    )
    pid = await setup.start(db, admin, start, now=now)
    async with db.federation(world.federation_id) as scope:
        lot = await setup_items.add_lot(
            scope, admin, pid, title="Skåp och drift", description="", estimated_value_sek=Decimal(0)
        )
        await setup.publish(
            scope, admin, pid, deadline=now + timedelta(days=31), electronic=True, documentation=None, now=now
        )
    vendor = await register(db, world, VENDOR)
    async with db.federation(world.federation_id, vendor_id=vendor.id) as scope:
        await bids.submit(
            scope, vendor_caller(vendor), bids.NewBid(pid, lot["id"], Decimal(850_000), None, ()), now=now
        )
    async with db.federation(world.federation_id) as scope:  # a test cannot wait 31 days for the deadline
        await scope.connection.execute(
            "UPDATE procurement SET tender_deadline = now() - interval '1 second' WHERE id = $1", pid
        )
    async with db.federation(world.federation_id) as scope:
        await evaluation.evaluate(scope, admin, pid, now=utcnow())
        decision = await award.award(scope, admin, pid, now=utcnow())
        first = date(date.today().year, 1, 1)
        signed = await contracts.sign(
            scope,
            admin,
            contracts.NewContract(decision.awards[0].id, first, contracts.add_months(first, 24), False),
            now=decision.standstill_ends_at + timedelta(seconds=1),
        )
        shares = {"shares": {str(world.a.id): 70, str(world.b.id): 30}}
        await costs.set_key(scope, admin, signed.id, first, Method.FIXED, shares, Decimal(365_000))
    call_off = contracts_calloffs.NewCallOff(signed.id, Decimal(2), Decimal(40_000), "Två skåp till hemtjänsten", ())
    await contracts_calloffs.place(db, municipality_admin(world, world.a.id), call_off, now=utcnow())
    return Joint(pid, signed.id)


def row_of(within: Page | Locator, name: str) -> Locator:
    """The table row headed by ``name``."""
    page = within if isinstance(within, Page) else within.page
    return within.locator("tr", has=page.locator("th", has_text=name))


async def test_a_federation_admin_sees_the_members_the_plugin_matrix_and_cost_and_savings_with_their_numbers(
    federation_page: Page, db: Database, redis: Redis, world: World
) -> None:
    for tenant in (world.a.id, world.b.id):
        await enable(db, tenant, "procurement")
    await received_through_lockers(db, redis, world, 2)
    need_a = await record_need(db, world, world.a.id, 500_000)
    need_b = await record_need(db, world, world.b.id, 400_000)
    await joint_contract(db, world, [need_a, need_b])
    a_name, b_name = f"Kommun A {world.a.slug[2:]}", f"Kommun B {world.b.slug[2:]}"
    page = federation_page

    await page.goto("/web/federation")
    await expect(page.locator("h1")).to_have_text("Medlemskommuner")
    await expect(row_of(page, a_name).locator("td")).to_have_text(["1494", "Inte registrerad", "2"])
    await expect(row_of(page, b_name)).to_have_count(1)
    await check_axe(page)
    await shot(page, "federation-members")

    await page.goto("/web/federation/plugins")
    a_row, b_row = row_of(page, a_name), row_of(page, b_name)
    for plugin_id in ("lockers", "deliveries", "procurement"):
        await expect(a_row.locator(f"td[data-plugin={plugin_id}]")).to_have_text("✓ Aktiverad")
    await expect(b_row.locator("td[data-plugin=deliveries]")).to_have_text("\u2013 Inte aktiverad")
    await expect(b_row.locator("td[data-plugin=procurement]")).to_have_text("✓ Aktiverad")
    await check_axe(page)
    await shot(page, "federation-plugins")

    await page.goto("/web/federation")  # the plugins' federation pages are listed on the federation's pages
    await page.get_by_role("link", name="Besparing per medlem").click()
    await expect(page.locator("svg title", has_text="Sparade personaltimmar")).to_have_count(1)
    savings = page.locator("table", has=page.locator("caption", has_text="Leveranser och besparing per medlem"))
    await expect(row_of(savings, a_name).locator("td")).to_have_text(["2", "0", "30,0", "1,00\u00a0h"])
    await expect(row_of(savings, b_name).locator("td")).to_have_text(["Leveranser inte aktiverade"])
    await check_axe(page)
    await shot(page, "federation-savings")

    await page.get_by_role("link", name="Kostnad per medlem").click()
    await expect(page.locator("svg title", has_text="Kostnad för gemensamma avtal")).to_have_count(1)
    cost = page.locator("table", has=page.locator("caption", has_text="Varje medlems kostnad"))
    await expect(row_of(cost, a_name).locator("td")).to_have_text(["255\u00a0500,00\u00a0kr"])
    await expect(row_of(cost, b_name).locator("td")).to_have_text(["109\u00a0500,00\u00a0kr"])
    chart = page.locator("figure", has=page.locator("#chart-cost-title"))
    await expect(row_of(chart, a_name).locator("td")).to_have_text(["255\u00a0500,00"])
    await check_axe(page)
    await shot(page, "federation-costs")

    for report in FEDERATION_REPORTS:
        response = await page.goto(f"{report}?year=tjugo")
        assert response is not None and response.status == 400, report
        await expect(page.locator("#f-year-error")).to_contain_text("2000")
        await check_axe(page)


async def test_a_tenant_admin_gets_the_403_page_on_every_federation_page(admin_page: Page) -> None:
    for path in ("/web/federation", "/web/federation/plugins", *FEDERATION_REPORTS):
        response = await admin_page.goto(path)
        assert response is not None and response.status == 403, path
        await expect(admin_page.locator("h1")).to_have_text("Du saknar behörighet")
    await check_axe(admin_page)
    await shot(admin_page, "federation-forbidden")


async def test_a_municipality_admin_records_a_need_fixing_a_bad_value_and_sees_its_procurements(
    admin_page: Page, db: Database, world: World
) -> None:
    for tenant in (world.a.id, world.b.id):
        await enable(db, tenant, "procurement")
    page = admin_page
    await page.goto("/web/plugins/procurement/")
    await expect(page.locator("h1")).to_have_text("Upphandlingsbehov")
    await check_axe(page)
    await page.get_by_label("Kategori").fill(CATEGORY)
    await page.get_by_label("Rubrik").fill("Skåp till hemtjänsten <script>alert(1)</script>")
    await page.get_by_label("Uppskattad volym").fill("6")
    await page.get_by_label("Uppskattat värde (kr)").fill("500 000,125")
    await page.get_by_label("Önskad start").fill((date.today() + timedelta(days=90)).isoformat())
    async with page.expect_navigation():
        await page.get_by_role("button", name="Registrera behovet").click()
    await expect(page.locator("#f-estimated_value_sek-error")).to_contain_text("högst två decimaler")
    await expect(page.locator("#f-estimated_value_sek")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Rubrik")).to_have_value("Skåp till hemtjänsten <script>alert(1)</script>")
    await check_axe(page)
    await shot(page, "procurement-need-error")

    await page.get_by_label("Uppskattat värde (kr)").fill("500 000")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Registrera behovet").click()
    await expect(page.locator(".flash")).to_contain_text("registrerades")
    mine = row_of(page, "Skåp till hemtjänsten <script>alert(1)</script>")
    cells = [CATEGORY, "6 st", "500\u00a0000,00\u00a0kr", re.compile(r"\d{4}-\d\d-\d\d"), "Öppet"]
    await expect(mine.locator("td")).to_have_text(cells)
    await check_axe(page)
    await shot(page, "procurement-needs")

    async with db.tenant(world.a.id) as scope:
        recorded = [r["id"] for r in await needs.own(scope)]
    await joint_contract(db, world, [*recorded, await record_need(db, world, world.b.id, 400_000)])
    await page.goto("/web/plugins/procurement/procurements")
    section = page.locator("section", has=page.locator("h2", has_text="Tempererade leveransskåp som tjänst"))
    await expect(section).to_contain_text("Avtal tecknat")
    await expect(section).to_contain_text("Skåp och drift")
    await expect(section).to_contain_text(VENDOR)
    await expect(section.locator("table", has=page.locator("caption", has_text="Våra avrop"))).to_contain_text(
        "Två skåp till hemtjänsten"
    )
    await check_axe(page)
    await shot(page, "procurement-procurements")

    for path, heading in (("follow-up", "Avtalsuppföljning"), ("reviews", "Leverantörsomdömen")):
        await page.goto(f"/web/plugins/procurement/{path}")
        await expect(page.locator("h1")).to_have_text(heading)
        await check_axe(page)
        await shot(page, f"procurement-{path}")
    await expect(page.locator("h2")).to_have_text([VENDOR])
