"""Staff pages, made for phones (``/web/staff/...``): today's pickups, opening a compartment and
reporting a fault (felanmälan), each through the same service the GraphQL API calls."""

from backend.web.staff.pages import ROUTES as STAFF_ROUTES

__all__ = ["STAFF_ROUTES"]
