"""The federation's pages (``/web/federation/...``) for its administrators: members and the
plugins each uses; plugins contribute the rest (``WebPage(audience="federation")``) and build
them with :mod:`backend.web.federation.page`."""

from backend.web.federation.page import federation_admin, federation_page, report_year, year_errors
from backend.web.federation.pages import ROUTES as FEDERATION_ROUTES

__all__ = ["FEDERATION_ROUTES", "federation_admin", "federation_page", "report_year", "year_errors"]
