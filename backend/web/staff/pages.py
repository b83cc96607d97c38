"""The staff section's routes: the staff home only; the pages on it come from plugins."""

from backend.web.staff.home import staff_home

ROUTES = [staff_home]
