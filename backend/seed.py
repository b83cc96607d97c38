"""The demo federation Göliska IT and its six members, seeded on the first `samverka up`."""

from __future__ import annotations

from dataclasses import dataclass

from tenants import accounts, provisioning
from tenants.access import Actor, Role
from tenants.database import Database
from tenants.tables import Federation

FEDERATION_SLUG = "goliska-it"
FEDERATION_NAME = "Göliska IT"
DEMO_PASSWORD = "samverka-demo-2026"
# Kommunkoder (SCB) of the six members.
MEMBERS = (
    ("Essunga", "1445"),
    ("Grästorp", "1444"),
    ("Götene", "1471"),
    ("Lidköping", "1494"),
    ("Skara", "1495"),
    ("Vara", "1470"),
)
ACCOUNTS = ((Role.TENANT_ADMIN, "admin", "Administratör"), (Role.STAFF, "personal", "Hemtjänstpersonal"))
# One nurse, for the medicine cabinet demo in Götene (backend.demo_cabinets): she may open nurse-only compartments.
NURSE_ACCOUNT = (Role.STAFF, "sjukskoterska", "Sjuksköterska")
NURSE_MUNICIPALITY = "Götene"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    municipality: str


async def seed_demo(db: Database) -> list[DemoLogin] | None:
    """Create the demo data once; ``None`` when it already exists."""
    actor = Actor.system("seed")
    async with db.shared() as scope:
        if await Federation.exists().where(Federation.slug == FEDERATION_SLUG):
            return None
        federation_id = await provisioning.ensure_federation(scope, slug=FEDERATION_SLUG, name=FEDERATION_NAME)
        await accounts.create_user(
            scope,
            email="admin@goliska-it.example",
            name="Förbundsadministratör",
            password=DEMO_PASSWORD,
            federation_id=federation_id,
            is_federation_admin=True,
        )
    logins = [DemoLogin("admin@goliska-it.example", Role.FEDERATION_ADMIN.value, "alla")]
    for name, code in MEMBERS:
        municipality = await provisioning.create_municipality(
            db, federation_id=federation_id, name=name, code=code, actor=actor
        )
        async with db.tenant(municipality.id) as scope:
            nurse = (NURSE_ACCOUNT,) if name == NURSE_MUNICIPALITY else ()
            for role, who, label in (*ACCOUNTS, *nurse):
                email = f"{who}@{municipality.slug}.example"
                user = await accounts.create_user(
                    scope, email=email, name=f"{label} {name}", password=DEMO_PASSWORD, federation_id=federation_id
                )
                await accounts.grant_membership(scope, user_id=user.id, role=role, actor=actor)
                logins.append(DemoLogin(email, role.value, name))
    return logins
