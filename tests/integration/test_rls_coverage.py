"""Every table with a tenant_id column is isolated by the database itself."""

from __future__ import annotations

import asyncpg

EXPECTED = "(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)"
APP_ROLE = "samverka_app"


async def tenant_tables(owner: asyncpg.Connection) -> list[str]:
    rows = await owner.fetch(
        """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
           ORDER BY 1"""
    )
    return [r["table_name"] for r in rows]


async def test_the_kernel_has_tenant_owned_tables_to_check(owner: asyncpg.Connection) -> None:
    assert {"membership", "api_token", "audit_log"} <= set(await tenant_tables(owner))


async def test_every_tenant_owned_table_has_enabled_and_forced_row_level_security(
    owner: asyncpg.Connection,
) -> None:
    missing = []
    for table in await tenant_tables(owner):
        row = await owner.fetchrow(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass", table
        )
        if not (row["relrowsecurity"] and row["relforcerowsecurity"]):
            missing.append(table)
    assert missing == [], f"tables without ENABLE + FORCE ROW LEVEL SECURITY: {missing}"


async def test_every_tenant_owned_table_has_the_tenant_policy_for_reads_and_writes(
    owner: asyncpg.Connection,
) -> None:
    missing = []
    for table in await tenant_tables(owner):
        policy = await owner.fetchrow(
            """SELECT cmd, permissive, qual, with_check FROM pg_policies
               WHERE schemaname = 'public' AND tablename = $1 AND policyname = 'tenant_isolation'""",
            table,
        )
        if policy is None or policy["cmd"] != "ALL" or policy["permissive"] != "PERMISSIVE":
            missing.append(table)
        elif policy["qual"] != EXPECTED or policy["with_check"] != EXPECTED:
            missing.append(table)
    assert missing == [], f"tables without the tenant_isolation policy on app.tenant_id: {missing}"


async def test_no_other_policy_lets_rows_be_written_across_tenants(owner: asyncpg.Connection) -> None:
    tables = await tenant_tables(owner)
    others = await owner.fetch(
        """SELECT tablename, policyname, cmd FROM pg_policies
           WHERE schemaname = 'public' AND tablename = ANY($1) AND policyname <> 'tenant_isolation'""",
        tables,
    )
    assert [(r["tablename"], r["cmd"]) for r in others if r["cmd"] != "SELECT"] == []


async def test_the_app_role_is_neither_superuser_nor_owner_nor_exempt_from_rls(owner: asyncpg.Connection) -> None:
    role = await owner.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", APP_ROLE)
    assert role is not None and not role["rolsuper"] and not role["rolbypassrls"]
    owned = await owner.fetchval(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1", APP_ROLE
    )
    assert owned == 0
