"""The staff start page: what a staff member can do here, on a phone."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from backend.web.render import render
from backend.web.staff.access import DELIVERIES, FAULT_REPORTS, LOCKERS, available, staff


@get("/web/staff")
async def staff_home(request: Request[Any, Any, Any]) -> Template:
    ctx = await staff(request)
    can = {p: available(ctx.services, ctx.user, p) for p in (LOCKERS, DELIVERIES, FAULT_REPORTS)}
    return render(request, ctx.user, "staff/home.html", can=can)
