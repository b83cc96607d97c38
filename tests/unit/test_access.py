"""Roles, scopes and the tenant a principal may act in (no I/O)."""

from __future__ import annotations

import uuid

import pytest

from backend.lib import PermissionDenied, Unauthenticated
from tenants.access import ANONYMOUS, Actor, Permission, Principal, Role, require

A, B, FED = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def user(memberships: dict[uuid.UUID, frozenset[Role]], tenant: uuid.UUID | None, fed_admin: bool = False) -> Principal:
    return Principal(actor=Actor("user", uuid.uuid4(), "u@x.example"), federation_id=FED,
                     is_federation_admin=fed_admin, memberships=memberships, tenant_id=tenant)


def test_staff_may_read_the_municipality_but_not_manage_tokens() -> None:
    staff = user({A: frozenset({Role.STAFF})}, A)
    assert require(staff, Permission.MUNICIPALITY_READ) == A
    with pytest.raises(PermissionDenied, match="tokens:manage"):
        require(staff, Permission.TOKENS_MANAGE)


def test_a_token_holds_only_its_scopes_and_only_in_its_own_tenant() -> None:
    token = Principal(actor=Actor("token", uuid.uuid4(), "token:x"), token_tenant_id=A,
                      token_scopes=frozenset({"audit:read", "tokens:manage"}), tenant_id=A)
    assert token.permissions_in(A) == {Permission.AUDIT_READ}  # tokens:manage is never grantable
    assert token.permissions_in(B) == frozenset()
    assert not token.can_enter(B, FED)


def test_a_federation_admin_may_enter_every_member_of_their_own_federation_only() -> None:
    admin = user({}, A, fed_admin=True)
    assert admin.can_enter(B, FED)
    assert not admin.can_enter(B, uuid.uuid4())
    assert Permission.TOKENS_MANAGE in admin.permissions_in(B)


def test_an_anonymous_caller_is_told_to_sign_in() -> None:
    with pytest.raises(Unauthenticated, match="Sign in"):
        require(ANONYMOUS, Permission.MUNICIPALITY_READ)


def test_a_user_with_several_municipalities_is_told_to_choose_one() -> None:
    both = user({A: frozenset({Role.STAFF}), B: frozenset({Role.STAFF})}, None)
    with pytest.raises(PermissionDenied, match="X-Samverka-Tenant"):
        require(both, Permission.MUNICIPALITY_READ)
