"""The federation's pages (``/web/federation/...``): members, the plugins each uses, and each
member's cost and savings, for the federation's administrators."""

from backend.web.federation.pages import ROUTES as FEDERATION_ROUTES

__all__ = ["FEDERATION_ROUTES"]
