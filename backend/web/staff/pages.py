"""The staff pages' routes, registered by the app with the web UI's other sections."""

from backend.web.staff.faults import fault_page, fault_submit
from backend.web.staff.home import staff_home
from backend.web.staff.open import open_page, open_submit, opened_page
from backend.web.staff.pickups import pickups_page

ROUTES = [staff_home, pickups_page, open_page, open_submit, opened_page, fault_page, fault_submit]
