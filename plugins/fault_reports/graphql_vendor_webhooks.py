"""Vendors' own webhook endpoint (federation roots): where ``fault.routed`` and ``fault.updated``
are POSTed, signed, for the faults routed to their organisation in every member municipality
(docs/webhooks.md). Kept in the federation by the kernel (``api.set_federation_endpoint`` and
friends), with the integrators' URL rules; the secret is shown once; changes are audited in
the federation's audit log. Vendor users only (``vendor_of``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend import plugin_api as api
from plugins.fault_reports.graphql_vendor_access import vendor_of

SetResult = Annotated[api.WebhookEndpointSet | api.Errors, strawberry.union("SetVendorWebhookEndpointResult")]
RotateResult = Annotated[api.WebhookSecretRotated | api.Errors, strawberry.union("RotateVendorWebhookSecretResult")]
DeleteResult = Annotated[api.WebhookEndpointDeleted | api.Errors, strawberry.union("DeleteVendorWebhookEndpointResult")]


@strawberry.type
class VendorWebhookQuery:
    @api.field(description="Vendors: your organisation's webhook endpoint for its faults (never the secret).")
    async def vendor_webhook_endpoint(self, info: api.Info) -> api.WebhookEndpoint | None:
        federation, vendor = await vendor_of(info)
        async with api.database(info).federation(federation, vendor_id=vendor) as scope:
            record = await api.get_federation_endpoint(scope, vendor)
        return api.WebhookEndpoint.of(record) if record else None


@strawberry.type
class VendorWebhookMutation:
    @api.mutation(description="Vendors: set (or change the URL of) your organisation's webhook endpoint.")
    @api.errors_as_data
    async def set_vendor_webhook_endpoint(self, info: api.Info, url: str) -> SetResult:
        federation, vendor = await vendor_of(info)
        actor, sandbox = info.context.principal.actor, info.context.services.settings.sandbox
        async with api.database(info).federation(federation, vendor_id=vendor) as scope:
            issued = await api.set_federation_endpoint(
                scope, owner_id=vendor, url=url, allow_local=sandbox, actor=actor
            )
        return api.WebhookEndpointSet(endpoint=api.WebhookEndpoint.of(issued.endpoint), secret=issued.secret)

    @api.mutation(description="Vendors: replace your webhook endpoint's signing secret (in force at once).")
    @api.errors_as_data
    async def rotate_vendor_webhook_secret(self, info: api.Info) -> RotateResult:
        federation, vendor = await vendor_of(info)
        async with api.database(info).federation(federation, vendor_id=vendor) as scope:
            issued = await api.rotate_federation_secret(scope, owner_id=vendor, actor=info.context.principal.actor)
        assert issued.secret is not None
        return api.WebhookSecretRotated(endpoint=api.WebhookEndpoint.of(issued.endpoint), secret=issued.secret)

    @api.mutation(description="Vendors: stop webhooks to your organisation; pending ones are not sent.")
    @api.errors_as_data
    async def delete_vendor_webhook_endpoint(self, info: api.Info) -> DeleteResult:
        federation, vendor = await vendor_of(info)
        async with api.database(info).federation(federation, vendor_id=vendor) as scope:
            gone = await api.delete_federation_endpoint(scope, owner_id=vendor, actor=info.context.principal.actor)
        return api.WebhookEndpointDeleted(id=strawberry.ID(str(gone.id)))
