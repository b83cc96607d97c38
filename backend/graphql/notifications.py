"""Webhook endpoints for integrators, and the delivery log for tenant admins."""

from typing import Annotated
from uuid import UUID

import strawberry

from backend.graphql.context import Info
from backend.graphql.decorators import field, mutation
from backend.graphql.errors import Errors, errors_as_data
from backend.graphql.relay import Connection, connection, page_request
from backend.lib import PermissionDenied, ValidationFailed
from backend.notifications import (
    Notification,
    WebhookEndpoint,
    delete_endpoint,
    get_endpoint,
    integrator_id,
    page_for,
    rotate_secret,
    set_endpoint,
)
from tenants.access import Principal, Role, require_tenant
from tenants.database import Database

ADMINS = frozenset({Role.TENANT_ADMIN, Role.FEDERATION_ADMIN})


def db(info: Info) -> Database:
    return info.context.services.db


def require_admin(principal: Principal) -> UUID:
    """Tenant admins (people, not tokens): the log holds citizens' addresses and numbers."""
    tenant = require_tenant(principal)
    if principal.actor.kind != "user" or not principal.roles_in(tenant) & ADMINS:
        raise PermissionDenied("The delivery log is for this municipality's administrators.")
    return tenant


@strawberry.type
class WebhookEndpointSet:
    endpoint: WebhookEndpoint
    secret: str | None = strawberry.field(
        description="The signing secret, only when one was just made (a new endpoint): shown this once."
    )


@strawberry.type
class WebhookSecretRotated:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="The new signing secret, in force at once: shown this once.")


@strawberry.type
class WebhookEndpointDeleted:
    id: strawberry.ID


@strawberry.type
class NotificationQuery:
    @field(description="The calling integrator's webhook endpoint here, if it set one (never the secret).")
    async def webhook_endpoint(self, info: Info) -> WebhookEndpoint | None:
        p = info.context.principal
        owner = integrator_id(p)
        async with db(info).tenant(require_tenant(p)) as scope:
            record = await get_endpoint(scope, owner)
        return WebhookEndpoint.of(record) if record else None

    @field(description="E-mail, SMS and webhooks about one thing (e.g. subjectKind 'delivery'), newest first.")
    async def notifications(
        self, info: Info, subject_kind: str, subject_id: strawberry.ID, first: int = 20, after: str | None = None
    ) -> Connection[Notification]:
        tenant = require_admin(info.context.principal)
        try:
            about = UUID(str(subject_id))
        except ValueError:
            raise ValidationFailed.on("subjectId", "This is not an id.") from None
        async with db(info).tenant(tenant) as scope:
            page = await page_for(scope, subject_kind, about, page_request(first, after))
        return connection(page, Notification.of)


@strawberry.type
class NotificationMutation:
    @mutation(description="Set (or change the URL of) the calling integrator's webhook endpoint.")
    @errors_as_data
    async def set_webhook_endpoint(
        self, info: Info, url: str
    ) -> Annotated[WebhookEndpointSet | Errors, strawberry.union("SetWebhookEndpointResult")]:
        p = info.context.principal
        owner, sandbox = integrator_id(p), info.context.services.settings.sandbox
        async with db(info).tenant(require_tenant(p)) as scope:
            issued = await set_endpoint(scope, owner_id=owner, url=url, allow_local=sandbox, actor=p.actor)
        return WebhookEndpointSet(endpoint=WebhookEndpoint.of(issued.endpoint), secret=issued.secret)

    @mutation(description="Replace the signing secret of the calling integrator's webhook endpoint.")
    @errors_as_data
    async def rotate_webhook_secret(
        self, info: Info
    ) -> Annotated[WebhookSecretRotated | Errors, strawberry.union("RotateWebhookSecretResult")]:
        p = info.context.principal
        owner = integrator_id(p)
        async with db(info).tenant(require_tenant(p)) as scope:
            issued = await rotate_secret(scope, owner_id=owner, actor=p.actor)
        assert issued.secret is not None
        return WebhookSecretRotated(endpoint=WebhookEndpoint.of(issued.endpoint), secret=issued.secret)

    @mutation(description="Stop webhooks to the calling integrator; pending ones are not sent.")
    @errors_as_data
    async def delete_webhook_endpoint(
        self, info: Info
    ) -> Annotated[WebhookEndpointDeleted | Errors, strawberry.union("DeleteWebhookEndpointResult")]:
        p = info.context.principal
        owner = integrator_id(p)
        async with db(info).tenant(require_tenant(p)) as scope:
            endpoint = await delete_endpoint(scope, owner_id=owner, actor=p.actor)
        return WebhookEndpointDeleted(id=strawberry.ID(str(endpoint.id)))
