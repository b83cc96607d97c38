"""Signing in over HTTP and acting in one's own municipality."""

from __future__ import annotations

from tests.conftest import LOGIN, GraphQLClient, Server, World, login

ME = "{ me { kind label municipality { slug } permissions memberships { municipality { slug } roles } } }"


async def test_a_tenant_admin_signs_in_and_acts_in_their_municipality(server: Server, world: World) -> None:
    client = await login(server, world.a.admin_email)
    body = await client(ME)
    me = body["data"]["me"]  # type: ignore[index]
    assert me["kind"] == "user"
    assert me["municipality"]["slug"] == world.a.slug
    assert "tokens:manage" in me["permissions"]
    assert [m["municipality"]["slug"] for m in me["memberships"]] == [world.a.slug]


async def test_a_wrong_password_is_refused_as_data_without_saying_which_part_was_wrong(
    server: Server, world: World
) -> None:
    body = await GraphQLClient(server.url)(LOGIN, {"email": world.a.admin_email, "password": "nope-nope-nope"})
    assert body["data"]["login"] == {  # type: ignore[index]
        "__typename": "UnauthenticatedError", "code": "UNAUTHENTICATED", "message": "Wrong e-mail or password."
    }
