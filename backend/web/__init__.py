"""The web UI: server-rendered pages for municipal staff, admins and federation admins
(docs/design/web.md). Pages call the same services as the GraphQL resolvers."""

from backend.web.i18n import N_, gettext, ngettext
from backend.web.render import NavItem, redirect, render
from backend.web.session import (
    MunicipalityRef,
    WebUser,
    require_federation_admin,
    require_municipality,
    require_tenant_role,
    web_user,
)

__all__ = [
    "N_",
    "MunicipalityRef",
    "NavItem",
    "WebUser",
    "gettext",
    "ngettext",
    "redirect",
    "render",
    "require_federation_admin",
    "require_municipality",
    "require_tenant_role",
    "web_user",
]
