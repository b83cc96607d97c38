"""Bad input of every kind gets a clear, typed error: never a 500, never another tenant's data."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from backend.graphql.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from backend.lib import utcnow
from tenants import tokens
from tenants.access import Actor
from tenants.database import Database
from tenants.tables import ApiToken
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login, make_world

AUDIT_LOG = """query($action: String) {
  auditLog(first: 100, action: $action) { nodes { id action targetId actorLabel details } }
}"""
API_TOKENS = "{ apiTokens(first: 100) { nodes { id name } } }"
USERS = "{ users(first: 100) { nodes { id email name } } }"
ME = "{ me { kind label municipality { slug } } }"

CREATE_TOKEN = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    __typename
    ... on ApiTokenCreated { token apiToken { id name } }
    ... on Error { code message }
    ... on ValidationFailedError { fields { field message } }
  }
}"""

REVOKE_TOKEN = """mutation($id: ID!) {
  revokeApiToken(id: $id) {
    __typename
    ... on ApiToken { id revokedAt }
    ... on Error { code message }
  }
}"""

CREATE_USER = """mutation($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on User { id email roles }
    ... on Error { code message }
    ... on ValidationFailedError { fields { field message } }
  }
}"""


@pytest.fixture(scope="module")
async def world(db: Database) -> World:
    """One federation for this module (hashing passwords for a fresh one per test costs ~1 s each).

    Tests here only add uniquely named data and compare before with after, so sharing is safe.
    """
    return await make_world(db)


# ---------------------------------------------------------------------------------------- helpers


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def messages(body: dict[str, Any]) -> str:
    return " ".join(e["message"] for e in body.get("errors") or [])


async def raw_post(server: Server, query: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(f"{server.url}/graphql", json={"query": query}, headers=headers)


async def integrator_token(db: Database, tenant_id: uuid.UUID, scopes: list[str]) -> tokens.NewToken:
    async with db.tenant(tenant_id) as scope:
        return await tokens.create_token(scope, name=f"integration {uuid.uuid4().hex[:6]}", scopes=scopes,
                                         expires_in_days=30, actor=Actor.system("test"))


async def create_token_via_api(admin: GraphQLClient, name: str, scopes: list[str]) -> dict[str, Any]:
    body = await admin(CREATE_TOKEN, {"input": {"name": name, "scopes": scopes, "expiresInDays": 30}})
    created: dict[str, Any] = body["data"]["createApiToken"]  # type: ignore[index]
    assert created["__typename"] == "ApiTokenCreated", created
    return created


async def token_names(admin: GraphQLClient) -> list[str]:
    body = await admin(API_TOKENS)
    return [n["name"] for n in body["data"]["apiTokens"]["nodes"]]  # type: ignore[index]


async def user_emails(admin: GraphQLClient) -> list[str]:
    body = await admin(USERS)
    return [n["email"] for n in body["data"]["users"]["nodes"]]  # type: ignore[index]


async def audit_actions(admin: GraphQLClient, action: str | None = None) -> list[dict[str, Any]]:
    body = await admin(AUDIT_LOG, {"action": action})
    assert "errors" not in body, body
    return body["data"]["auditLog"]["nodes"]  # type: ignore[index,no-any-return]


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A failure before GraphQL runs: the HTTP status, and a GraphQL-shaped body with a stable code."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["data"] is None
    assert codes(body) == [code]
    assert body["errors"][0]["message"]
    return body


# ------------------------------------------------------------------------------- authentication


async def test_a_field_that_needs_a_caller_refuses_an_anonymous_request_as_unauthenticated(
    server: Server, world: World
) -> None:
    body = await GraphQLClient(server.url)(AUDIT_LOG)
    assert body["data"] is None
    assert codes(body) == ["UNAUTHENTICATED"]
    assert "Sign in" in messages(body)


async def test_a_garbage_bearer_token_is_refused_with_401_in_graphql_shape(server: Server) -> None:
    response = await raw_post(server, ME, {"Authorization": "Bearer this-is-not-a-token"})
    assert_refused(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_credentials_in_another_scheme_than_bearer_are_refused_with_401(server: Server, world: World) -> None:
    basic = base64.b64encode(f"{world.a.admin_email}:{PASSWORD}".encode()).decode()
    response = await raw_post(server, ME, {"Authorization": f"Basic {basic}"})
    body = assert_refused(response, 401, "UNAUTHENTICATED")
    assert "Bearer" in messages(body)


async def test_a_session_token_sent_in_another_scheme_is_refused_too(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    response = await raw_post(server, ME, {"Authorization": f"Token {admin.token}"})
    assert_refused(response, 401, "UNAUTHENTICATED")


async def test_an_expired_api_token_is_refused(server: Server, world: World, db: Database) -> None:
    new = await integrator_token(db, world.a.id, ["municipality:read"])
    client = GraphQLClient(server.url, new.token)
    assert (await client(ME))["data"]["me"]["kind"] == "token"  # type: ignore[index]
    async with db.tenant(world.a.id):
        await ApiToken.update({ApiToken.expires_at: utcnow() - timedelta(minutes=1)}).where(
            ApiToken.id == new.record.id
        )
    body = assert_refused(await client.post(ME), 401, "UNAUTHENTICATED")
    assert "expired" in messages(body)


async def test_a_revoked_api_token_is_refused_on_the_very_next_request(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    created = await create_token_via_api(admin, "to be revoked", ["audit:read"])
    integrator = GraphQLClient(server.url, created["token"])
    assert "errors" not in await integrator(AUDIT_LOG)

    revoked = (await admin(REVOKE_TOKEN, {"id": created["apiToken"]["id"]}))["data"]["revokeApiToken"]  # type: ignore[index]
    assert revoked["__typename"] == "ApiToken" and revoked["revokedAt"]

    body = assert_refused(await integrator.post(AUDIT_LOG), 401, "UNAUTHENTICATED")
    assert "revoked" in messages(body)


async def test_an_api_token_with_a_valid_shape_but_an_unknown_secret_is_refused(
    server: Server, world: World, db: Database
) -> None:
    real = await integrator_token(db, world.a.id, ["municipality:read"])
    forged = real.token[:-6] + ("AAAAAA" if not real.token.endswith("AAAAAA") else "BBBBBB")
    for token in (forged, f"svk_{world.a.id.hex}_nothing-like-a-secret", f"svk_{uuid.uuid4().hex}_x",
                  "svk_not-a-tenant_x"):
        response = await GraphQLClient(server.url, token).post(ME)
        assert_refused(response, 401, "UNAUTHENTICATED")


async def test_a_signed_out_session_is_refused(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    assert (await admin("mutation { logout }"))["data"] == {"logout": True}
    assert_refused(await admin.post(ME), 401, "UNAUTHENTICATED")


# -------------------------------------------------------------------------------- authorization


async def test_an_api_token_used_for_a_municipality_it_was_not_granted_for_is_refused_with_403(
    server: Server, world: World, db: Database
) -> None:
    new = await integrator_token(db, world.a.id, ["municipality:read", "audit:read"])
    assert "errors" not in await GraphQLClient(server.url, new.token, world.a.slug)(AUDIT_LOG)
    for ref in (world.b.slug, str(world.b.id)):
        response = await GraphQLClient(server.url, new.token, ref).post(AUDIT_LOG)
        assert_refused(response, 403, "PERMISSION_DENIED")


async def test_a_user_choosing_a_municipality_without_a_role_there_is_refused_with_403(
    server: Server, world: World
) -> None:
    admin_a = await login(server, world.a.admin_email)
    assert (await admin_a(ME))["data"]["me"]["municipality"]["slug"] == world.a.slug  # type: ignore[index]
    response = await GraphQLClient(server.url, admin_a.token, world.b.slug).post(ME)
    assert_refused(response, 403, "PERMISSION_DENIED")


async def test_choosing_a_municipality_that_does_not_exist_is_not_found(server: Server, world: World) -> None:
    admin_a = await login(server, world.a.admin_email)
    response = await GraphQLClient(server.url, admin_a.token, "no-such-municipality").post(ME)
    assert_refused(response, 404, "NOT_FOUND")


async def test_choosing_a_municipality_without_signing_in_is_unauthenticated(server: Server, world: World) -> None:
    response = await GraphQLClient(server.url, None, world.a.slug).post(ME)
    assert_refused(response, 401, "UNAUTHENTICATED")


async def test_a_token_without_the_audit_scope_cannot_read_the_audit_log(
    server: Server, world: World, db: Database
) -> None:
    new = await integrator_token(db, world.a.id, ["municipality:read"])
    body = await GraphQLClient(server.url, new.token)(AUDIT_LOG)
    assert body["data"] is None
    assert codes(body) == ["PERMISSION_DENIED"]
    assert "audit:read" in messages(body)


async def test_a_token_cannot_manage_tokens_or_read_users_whatever_it_holds(
    server: Server, world: World, db: Database
) -> None:
    new = await integrator_token(db, world.a.id, ["municipality:read", "audit:read"])
    client = GraphQLClient(server.url, new.token)
    for query in (API_TOKENS, USERS):
        assert codes(await client(query)) == ["PERMISSION_DENIED"]
    created = (await client(CREATE_TOKEN, {"input": {"name": "escalate", "scopes": ["audit:read"]}}))
    assert created["data"]["createApiToken"]["code"] == "PERMISSION_DENIED"  # type: ignore[index]


async def test_a_staff_user_cannot_list_api_tokens(server: Server, world: World) -> None:
    staff = await login(server, world.a.staff_email)
    body = await staff(API_TOKENS)
    assert body["data"] is None
    assert codes(body) == ["PERMISSION_DENIED"]
    assert "tokens:manage" in messages(body)


async def test_a_staff_user_cannot_create_users(server: Server, world: World) -> None:
    staff = await login(server, world.a.staff_email)
    admin = await login(server, world.a.admin_email)
    email = f"sneaky-{uuid.uuid4().hex[:6]}@test.example"
    body = await staff(CREATE_USER, {"input": {"email": email, "name": "Sneaky", "role": "TENANT_ADMIN",
                                               "password": PASSWORD}})
    assert body["data"]["createUser"]["__typename"] == "PermissionDeniedError"  # type: ignore[index]
    assert email not in await user_emails(admin)


# ------------------------------------------------------------------------------ malformed GraphQL


async def test_a_syntax_error_is_a_bad_request_without_data(server: Server) -> None:
    response = await GraphQLClient(server.url).post("{ me { kind ")
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    assert codes(body) == ["BAD_REQUEST"]
    assert "Syntax Error" in messages(body)


async def test_an_unknown_field_is_a_bad_request_without_data(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    response = await admin.post("{ me { kind passwordHash } }")
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    assert codes(body) == ["BAD_REQUEST"]
    assert "passwordHash" in messages(body)


async def test_a_variable_of_the_wrong_type_is_a_bad_request(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    response = await admin.post(CREATE_TOKEN, {"input": {"name": "x", "scopes": "audit:read", "expiresInDays": "x"}})
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    assert codes(body) == ["BAD_REQUEST"]


async def test_a_body_that_is_not_json_is_refused_without_a_500(server: Server) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{server.url}/graphql", content=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500


def nested(levels: int, leaf: str = "name") -> str:
    """``f1 { f2 { ... leaf } }``: a selection ``levels`` fields deep, of fields the schema does not have."""
    inner = leaf
    for i in reversed(range(levels)):
        inner = f"f{i} {{ {inner} }}"
    return inner


async def test_a_query_nested_deeper_than_the_depth_limit_is_rejected_before_it_runs(
    server: Server, world: World
) -> None:
    # The schema is too shallow to nest MAX_DEPTH levels of real fields (me/memberships/municipality/id
    # is four), so the fields below the real ones are made up; the depth check runs on the document
    # regardless, and must name the limit.
    admin = await login(server, world.a.admin_email)
    query = f"{{ me {{ memberships {{ municipality {{ {nested(MAX_DEPTH)} }} }} }} }}"
    response = await admin.post(query)
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    assert set(codes(body)) == {"BAD_REQUEST"}
    assert f"exceeds maximum operation depth of {MAX_DEPTH}" in messages(body)
    shallow = await admin(f"{{ me {{ memberships {{ municipality {{ {nested(2)} }} }} }} }}")
    assert "depth" not in messages(shallow)


async def test_a_deeply_nested_introspection_query_is_rejected_before_it_runs(server: Server) -> None:
    # Introspection fields are not counted by the operation depth limit; nesting
    # fields/type/fields... multiplies the work at each level, so it has its own limit.
    query = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"
    response = await GraphQLClient(server.url).post(query)
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    assert codes(body) == ["BAD_REQUEST"]
    assert "depth" in messages(body)


async def test_a_modest_introspection_query_still_runs(server: Server) -> None:
    body = await GraphQLClient(server.url)(
        '{ __type(name: "Query") { fields { name type { name ofType { name ofType { name } } } } } }'
    )
    assert "errors" not in body, body
    assert "auditLog" in [f["name"] for f in body["data"]["__type"]["fields"]]  # type: ignore[index]


async def test_too_many_aliases_are_rejected(server: Server) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }"
    body = (await GraphQLClient(server.url).post(query)).json()
    assert body.get("data") is None
    assert codes(body) == ["BAD_REQUEST"]
    assert "aliases" in messages(body)
    allowed = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES)) + " }"
    assert "errors" not in await GraphQLClient(server.url)(allowed)


async def test_a_query_with_too_many_tokens_is_rejected(server: Server) -> None:
    query = "{ " + " ".join(["__typename"] * MAX_TOKENS) + " }"
    response = await GraphQLClient(server.url).post(query)
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    assert codes(body) == ["BAD_REQUEST"]
    assert "tokens" in messages(body)


# -------------------------------------------------------------------------------------- paging


async def test_a_page_larger_than_the_cap_or_empty_is_a_validation_failure(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    for field in ("auditLog", "apiTokens", "users", "municipalities"):
        for first in (101, 0, -1):
            body = await admin(f"{{ {field}(first: {first}) {{ nodes {{ id }} }} }}")
            assert body["data"] is None, (field, first)
            assert codes(body) == ["VALIDATION_FAILED"], (field, first, body)
    ok = await admin("{ auditLog(first: 100) { nodes { id } } }")
    assert "errors" not in ok


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def test_a_cursor_this_api_never_gave_out_is_a_validation_failure(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    garbage = ["garbage", "____", b64("not-a-number"), b64("9" * 40), b64("²"), b64("1\x00")]
    for cursor in garbage:
        body = await admin('query($after: String) { auditLog(after: $after) { nodes { id } } }', {"after": cursor})
        assert body["data"] is None, cursor
        assert codes(body) == ["VALIDATION_FAILED"], (cursor, body)
    for field in ("apiTokens", "users", "municipalities"):
        for cursor in ["garbage", "____", b64("a\x00b")] + ([b64("not-a-uuid")] if field == "apiTokens" else []):
            body = await admin(f"query($after: String) {{ {field}(after: $after) {{ nodes {{ id }} }} }}",
                               {"after": cursor})
            assert body["data"] is None, (field, cursor)
            assert codes(body) == ["VALIDATION_FAILED"], (field, cursor, body)


async def test_a_cursor_handed_out_by_the_api_pages_on(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    first = await admin("{ auditLog(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }")
    page = first["data"]["auditLog"]  # type: ignore[index]
    assert page["pageInfo"]["hasNextPage"]
    second = await admin('query($after: String) { auditLog(first: 1, after: $after) { nodes { id } } }',
                         {"after": page["pageInfo"]["endCursor"]})
    assert "errors" not in second
    assert second["data"]["auditLog"]["nodes"][0]["id"] != page["nodes"][0]["id"]  # type: ignore[index]


async def test_paging_past_the_last_item_gives_an_empty_page_not_an_error(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    for field in ("users", "apiTokens", "auditLog", "municipalities"):
        whole = await admin(f"{{ {field}(first: 100) {{ edges {{ cursor }} pageInfo {{ hasNextPage }} }} }}")
        edges = whole["data"][field]["edges"]  # type: ignore[index]
        if not edges:
            continue
        last = edges[-1]["cursor"]
        query = "query($after: String) { %s(after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }"
        body = await admin(query.replace("%s", field), {"after": last})
        assert "errors" not in body, (field, body)
        assert body["data"][field] == {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}  # type: ignore[index]
    # Past the last user in e-mail order, whether or not the API gave the cursor out.
    body = await admin('query($after: String) { users(after: $after) { nodes { id } } }', {"after": b64("~~~")})
    assert body == {"data": {"users": {"nodes": []}}}


async def test_a_nul_character_in_any_text_input_is_a_bad_request(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    users_before, tokens_before = await user_emails(admin), await token_names(admin)
    attempts: list[tuple[str, dict[str, Any]]] = [
        (AUDIT_LOG, {"action": "token.created\x00"}),
        ('{ auditLog(action: "x\\u0000") { nodes { id } } }', {}),
        (CREATE_USER, {"input": {"email": "nul\x00@test.example", "name": "Nul", "role": "STAFF",
                                 "password": PASSWORD}}),
        (CREATE_TOKEN, {"input": {"name": "nul\x00", "scopes": ["audit:read"]}}),
        ('mutation($e: String!) { login(email: $e, password: "whatever-password") { __typename } }',
         {"e": f"{world.a.admin_email}\x00"}),
    ]
    for query, variables in attempts:
        response = await admin.post(query, variables)
        assert response.status_code < 500
        body = response.json()
        assert body.get("data") is None, (query, body)
        assert codes(body) == ["BAD_REQUEST"], (query, body)
        assert "NUL" in messages(body)
    assert await user_emails(admin) == users_before
    assert await token_names(admin) == tokens_before


# ---------------------------------------------------------------------------------- unknown ids


async def test_revoking_an_unknown_token_id_is_not_found(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    for ident in (str(uuid.uuid4()), "not-a-uuid", ""):
        result = (await admin(REVOKE_TOKEN, {"id": ident}))["data"]["revokeApiToken"]  # type: ignore[index]
        assert result["__typename"] == "NotFoundError", (ident, result)
        assert result["code"] == "NOT_FOUND"


async def test_revoking_another_municipalitys_token_is_not_found_and_leaves_it_working(
    server: Server, world: World
) -> None:
    admin_a = await login(server, world.a.admin_email)
    admin_b = await login(server, world.b.admin_email)
    b_token = await create_token_via_api(admin_b, "b integration", ["audit:read"])

    b_id, nowhere = b_token["apiToken"]["id"], str(uuid.uuid4())
    result = (await admin_a(REVOKE_TOKEN, {"id": b_id}))["data"]["revokeApiToken"]  # type: ignore[index]
    unknown = (await admin_a(REVOKE_TOKEN, {"id": nowhere}))["data"]["revokeApiToken"]  # type: ignore[index]
    assert result["__typename"] == unknown["__typename"] == "NotFoundError"
    # The same answer as for an id that exists nowhere, apart from the id itself: nothing leaks.
    assert result["message"].replace(b_id, "?") == unknown["message"].replace(nowhere, "?")

    integrator = GraphQLClient(server.url, b_token["token"])
    body = await integrator(AUDIT_LOG, {"action": "token.created"})
    assert "errors" not in body, body
    b_tokens = (await admin_b("{ apiTokens { nodes { id revokedAt } } }"))["data"]["apiTokens"]["nodes"]  # type: ignore[index]
    assert [t["revokedAt"] for t in b_tokens if t["id"] == b_id] == [None]
    for admin in (admin_a, admin_b):
        assert [e for e in await audit_actions(admin, "token.revoked") if e["targetId"] == b_id] == []


async def test_revoking_a_token_twice_is_harmless_and_audited_once(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    created = await create_token_via_api(admin, "twice", ["audit:read"])
    first = (await admin(REVOKE_TOKEN, {"id": created["apiToken"]["id"]}))["data"]["revokeApiToken"]  # type: ignore[index]
    second = (await admin(REVOKE_TOKEN, {"id": created["apiToken"]["id"]}))["data"]["revokeApiToken"]  # type: ignore[index]
    assert first["__typename"] == second["__typename"] == "ApiToken"
    assert first["revokedAt"] == second["revokedAt"]
    revocations = await audit_actions(admin, "token.revoked")
    assert [e["targetId"] for e in revocations].count(created["apiToken"]["id"]) == 1


# --------------------------------------------------------------------------------- input checks


async def test_an_api_token_with_bad_input_is_refused_field_by_field_and_nothing_is_saved(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    tokens_before = await token_names(admin)
    created_before = await audit_actions(admin, "token.created")
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"name": "  ", "scopes": ["audit:read"], "expiresInDays": 30}, {"name"}),
        ({"name": "ok", "scopes": ["users:manage"], "expiresInDays": 30}, {"scopes"}),
        ({"name": "ok", "scopes": ["audit:read", "root"], "expiresInDays": 30}, {"scopes"}),
        ({"name": "ok", "scopes": [], "expiresInDays": 30}, {"scopes"}),
        ({"name": "ok", "scopes": ["audit:read"], "expiresInDays": 0}, {"expiresInDays"}),
        ({"name": "ok", "scopes": ["audit:read"], "expiresInDays": 1000}, {"expiresInDays"}),
        ({"name": "ok", "scopes": ["audit:read"], "expiresInDays": -5}, {"expiresInDays"}),
        ({"name": "", "scopes": ["nope"], "expiresInDays": 0}, {"name", "scopes", "expiresInDays"}),
    ]
    for given, bad_fields in cases:
        result = (await admin(CREATE_TOKEN, {"input": given}))["data"]["createApiToken"]  # type: ignore[index]
        assert result["__typename"] == "ValidationFailedError", (given, result)
        assert result["code"] == "VALIDATION_FAILED"
        assert {f["field"] for f in result["fields"]} == bad_fields, (given, result)
        assert all(f["message"] for f in result["fields"])
    assert await token_names(admin) == tokens_before
    assert await audit_actions(admin, "token.created") == created_before


async def test_an_overlong_token_name_is_refused_without_a_500(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    before = await token_names(admin)
    body = await admin(CREATE_TOKEN, {"input": {"name": "x" * 5000, "scopes": ["audit:read"]}})
    assert codes(body) == [], body
    result = body["data"]["createApiToken"]  # type: ignore[index]
    assert result["__typename"] == "ValidationFailedError", result
    assert [f["field"] for f in result["fields"]] == ["name"]
    assert await token_names(admin) == before


async def test_a_user_with_an_e_mail_already_taken_is_a_conflict_and_nothing_is_saved(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    before, created_before = await user_emails(admin), await audit_actions(admin, "user.created")
    for email in (world.a.staff_email, world.a.staff_email.upper(), f"  {world.b.admin_email} "):
        result = (await admin(CREATE_USER, {"input": {"email": email, "name": "Dubblett", "role": "STAFF",
                                                      "password": PASSWORD}}))["data"]["createUser"]  # type: ignore[index]
        assert result["__typename"] == "ConflictError", (email, result)
        assert result["code"] == "CONFLICT"
    assert await user_emails(admin) == before
    assert await audit_actions(admin, "user.created") == created_before


async def test_a_user_with_bad_input_is_refused_field_by_field_and_nothing_is_saved(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    before, created_before = await user_emails(admin), await audit_actions(admin, "user.created")
    tag = uuid.uuid4().hex[:6]
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"email": "not-an-email", "name": "Ny", "role": "STAFF", "password": PASSWORD}, {"email"}),
        ({"email": f"ny-{tag}@test.example", "name": "Ny", "role": "STAFF", "password": "short"}, {"password"}),
        ({"email": f"ny-{tag}@test.example", "name": " ", "role": "STAFF", "password": PASSWORD}, {"name"}),
        ({"email": "a@b", "name": "", "role": "STAFF", "password": "x"}, {"email", "name", "password"}),
        ({"email": f"ny-{tag}@test.example", "name": "Ny", "role": "FEDERATION_ADMIN", "password": PASSWORD},
         {"role"}),
    ]
    for given, bad_fields in cases:
        result = (await admin(CREATE_USER, {"input": given}))["data"]["createUser"]  # type: ignore[index]
        assert result["__typename"] == "ValidationFailedError", (given, result)
        assert {f["field"] for f in result["fields"]} == bad_fields, (given, result)
    assert await user_emails(admin) == before
    assert await audit_actions(admin, "user.created") == created_before
    # Nothing half-made was left behind: the address is still free.
    ok = (await admin(CREATE_USER, {"input": {"email": f"ny-{tag}@test.example", "name": "Ny", "role": "STAFF",
                                              "password": PASSWORD}}))["data"]["createUser"]  # type: ignore[index]
    assert ok["__typename"] == "User", ok


async def test_an_overlong_user_name_or_e_mail_is_refused_without_a_500(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    before = await user_emails(admin)
    for given in ({"email": f"{'x' * 400}@test.example", "name": "Lång"},
                  {"email": f"lang-{uuid.uuid4().hex[:6]}@test.example", "name": "x" * 5000}):
        body = await admin(CREATE_USER, {"input": {**given, "role": "STAFF", "password": PASSWORD}})
        assert codes(body) == [], body
        assert body["data"]["createUser"]["__typename"] == "ValidationFailedError", body  # type: ignore[index]
    assert await user_emails(admin) == before


# ------------------------------------------------------------------------------------- transport


async def test_queries_over_get_are_not_executed_outside_development(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{server.url}/graphql", params={"query": "{ me { kind label } }"},
                                    headers=admin.headers())
        ide = await client.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
        mutation = await client.get(f"{server.url}/graphql", params={"query": "mutation { logout }"},
                                    headers=admin.headers())
    assert 400 <= response.status_code < 500
    assert world.a.admin_email not in response.text
    assert 400 <= ide.status_code < 500
    assert "graphiql" not in ide.text.lower()
    assert 400 <= mutation.status_code < 500
    assert (await admin(ME))["data"]["me"]["kind"] == "user"  # type: ignore[index]


# ---------------------------------------------------------------------------------- cross-tenant


async def test_an_admin_never_sees_another_municipalitys_audit_log_users_or_tokens(
    server: Server, world: World
) -> None:
    admin_a = await login(server, world.a.admin_email)
    admin_b = await login(server, world.b.admin_email)
    tag = uuid.uuid4().hex[:8]
    b_email = f"only-in-b-{tag}@test.example"
    b_user = (await admin_b(CREATE_USER, {"input": {"email": b_email, "name": f"B-person {tag}", "role": "STAFF",
                                                   "password": PASSWORD}}))["data"]["createUser"]  # type: ignore[index]
    assert b_user["__typename"] == "User"
    b_token = await create_token_via_api(admin_b, f"b-secret-{tag}", ["audit:read"])

    # B sees its own data, so the lists below could show it.
    assert b_email in await user_emails(admin_b)
    assert f"b-secret-{tag}" in await token_names(admin_b)
    assert any(tag in str(e) for e in await audit_actions(admin_b))

    for query in (AUDIT_LOG, USERS, API_TOKENS, "{ auditLog(first: 100, action: \"token.created\") { nodes { id } } }"):
        body = await admin_a(query)
        assert "errors" not in body, body
        text = str(body)
        assert tag not in text and b_email not in text and b_user["id"] not in text
        assert b_token["apiToken"]["id"] not in text
        assert world.b.admin_email not in text and world.b.staff_email not in text

    a_audit_ids = {e["id"] for e in await audit_actions(admin_a)}
    b_audit_ids = {e["id"] for e in await audit_actions(admin_b)}
    assert a_audit_ids and b_audit_ids and not a_audit_ids & b_audit_ids
