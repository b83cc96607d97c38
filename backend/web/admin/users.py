"""Users and roles of the active municipality: the list, inviting a person, giving and taking roles.

Every change goes through the kernel's ``tenants.accounts`` services in the tenant's transaction,
in the same order as the GraphQL mutations ``createUser``, ``grantRole`` and ``revokeRole``, and is
audited by them.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from backend.lib import Conflict, FieldError, NotFound, ValidationFailed
from backend.web.admin.access import admin_for, field_errors, form_data, page_request, parse_id, role_label
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.session import WebUser
from tenants import accounts, audit, provisioning
from tenants.access import TENANT_ROLES, Permission, Role

DUPLICATE_EMAIL = N_("An account with this e-mail address already exists. Use another address.")


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role_label(role)) for role in TENANT_ROLES]


def _role(value: str) -> Role | None:
    return next((role for role in TENANT_ROLES if role.value == value), None)


@get("/web/admin/users", name="admin_users")
async def users_page(request: Request[Any, Any, Any], after: str | None = None) -> Response[Any]:
    admin = await admin_for(request, Permission.USERS_READ)
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        page = await accounts.list_tenant_users(scope, page_request(after))
        roles = await accounts.memberships_in_tenant(scope, [u.id for u in page.items])
    rows = [(u, sorted(role_label(r) for r in roles.get(u.id, []))) for u in page.items]
    next_after = page.cursors[-1] if page.has_next and page.cursors else None
    return render(request, admin.user, "admin/users.html", rows=rows, next_after=next_after, first_page=after is None)


def _invite_form(
    request: Request[Any, Any, Any],
    admin_user: WebUser,
    values: dict[str, str],
    errors: dict[str, list[str]],
    status: int,
) -> Response[Any]:
    return render(
        request,
        admin_user,
        "admin/user_new.html",
        status_code=status,
        values=values,
        errors=errors,
        roles=role_choices(),
        min_password=accounts.MIN_PASSWORD,
    )


@get("/web/admin/users/new", name="admin_user_new")
async def invite_page(request: Request[Any, Any, Any]) -> Response[Any]:
    admin = await admin_for(request, Permission.USERS_MANAGE)
    return _invite_form(request, admin.user, {"role": Role.STAFF.value}, {}, 200)


@post("/web/admin/users/new", name="admin_user_create")
async def invite_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Create the account and give it its role here, as the mutation ``createUser`` does."""
    admin = await admin_for(request, Permission.USERS_MANAGE)
    form = await form_data(request)
    values = {k: form.get(k, "") for k in ("name", "email", "role")}
    role = _role(values["role"])
    password = form.get("password", "")  # an empty one is refused by the kernel, as too short
    if role is None:
        return _invite_form(request, admin.user, values, {"role": [gettext("Choose a role.")]}, 400)
    actor = admin.user.principal.actor
    db = admin.services.db
    here = await provisioning.get_municipality(db, admin.tenant_id)
    try:
        async with db.tenant(admin.tenant_id) as scope:
            user = await accounts.create_user(
                scope, email=values["email"], name=values["name"], password=password, federation_id=here.federation_id
            )
            await accounts.grant_membership(scope, user_id=user.id, role=role, actor=actor)
            await audit.record(
                scope,
                actor=actor,
                action="user.created",
                target_kind="user",
                target_id=user.id,
                details={"email": user.email},
            )
    except ValidationFailed as exc:
        return _invite_form(request, admin.user, values, field_errors(exc.fields), 400)
    except Conflict:
        return _invite_form(request, admin.user, values, field_errors([FieldError("email", DUPLICATE_EMAIL)]), 409)
    text = gettext("%(name)s can now sign in as %(role)s.", name=user.name, role=role_label(role).lower())
    return redirect(request, f"/web/admin/users/{user.id}", flash=text)


@get("/web/admin/users/{user_id:str}", name="admin_user")
async def user_page(request: Request[Any, Any, Any], user_id: str) -> Response[Any]:
    admin = await admin_for(request, Permission.USERS_READ)
    uid = parse_id(user_id, "User")
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        held = (await accounts.memberships_in_tenant(scope, [uid])).get(uid, [])
        if not held:  # people without a role here are not this municipality's to see
            raise NotFound("User", uid)
        person = await accounts.get_user(scope, uid)
    held_roles = [(role.value, role_label(role)) for role in sorted(held)]
    addable = [(value, label) for value, label in role_choices() if Role(value) not in held]
    return render(
        request,
        admin.user,
        "admin/user.html",
        person=person,
        held_roles=held_roles,
        addable=addable,
        is_self=uid == admin.user.principal.user_id,
    )


@post("/web/admin/users/{user_id:str}/roles", name="admin_user_grant")
async def grant_submit(request: Request[Any, Any, Any], user_id: str) -> Response[Any]:
    """Give the person another role here (the mutation ``grantRole``)."""
    admin = await admin_for(request, Permission.USERS_MANAGE)
    uid = parse_id(user_id, "User")
    role = _role((await form_data(request)).get("role", ""))
    back = f"/web/admin/users/{uid}"
    if role is None:
        return redirect(request, back, flash=gettext("Choose a role."), kind="error")
    try:
        async with admin.services.db.tenant(admin.tenant_id) as scope:
            if not (await accounts.memberships_in_tenant(scope, [uid])).get(uid):
                raise NotFound("User", uid)
            await accounts.grant_membership(scope, user_id=uid, role=role, actor=admin.user.principal.actor)
    except Conflict:
        return redirect(request, back, flash=gettext("The person already has this role here."), kind="info")
    return redirect(request, back, flash=gettext("The role %(role)s was given.", role=role_label(role).lower()))


@post("/web/admin/users/{user_id:str}/roles/remove", name="admin_user_revoke")
async def revoke_submit(request: Request[Any, Any, Any], user_id: str) -> Response[Any]:
    """Take a role here away (the mutation ``revokeRole``); without roles the person leaves the list."""
    admin = await admin_for(request, Permission.USERS_MANAGE)
    uid = parse_id(user_id, "User")
    role = _role((await form_data(request)).get("role", ""))
    if role is None:
        raise NotFound("Membership", uid)
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        await accounts.revoke_membership(scope, user_id=uid, role=role, actor=admin.user.principal.actor)
        left = (await accounts.memberships_in_tenant(scope, [uid])).get(uid, [])
    text = gettext("The role %(role)s was taken away.", role=role_label(role).lower())
    if uid == admin.user.principal.user_id and role is Role.TENANT_ADMIN and not admin.user.is_federation_admin:
        return redirect(request, "/", flash=text, kind="info")
    return redirect(request, f"/web/admin/users/{uid}" if left else "/web/admin/users", flash=text)


ROUTES = [users_page, invite_page, invite_submit, user_page, grant_submit, revoke_submit]

__all__ = ["ROUTES", "role_label"]
