"""The municipality's administration (``/web/admin/...``): users and roles, plugins, integrator
access and the audit log, for its tenant admins and the federation's admins."""

from backend.web.admin import audit, overview, plugins, tokens, users

ADMIN_ROUTES = [*overview.ROUTES, *users.ROUTES, *plugins.ROUTES, *tokens.ROUTES, *audit.ROUTES]

__all__ = ["ADMIN_ROUTES"]
