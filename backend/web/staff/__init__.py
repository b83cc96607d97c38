"""Staff pages, made for phones (``/web/staff``): the home that lists the staff pages contributed
by the municipality's enabled plugins (``WebPage(audience="staff")``), and the helpers those pages
share (:func:`staff`, :func:`available`)."""

from backend.web.staff.access import STAFF_ROLES, StaffContext, available, staff
from backend.web.staff.pages import ROUTES as STAFF_ROUTES

__all__ = ["STAFF_ROLES", "STAFF_ROUTES", "StaffContext", "available", "staff"]
