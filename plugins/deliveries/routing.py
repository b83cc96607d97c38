"""The order in which one courier visits a day's locker sites, starting from a depot.

Pure planning core (no I/O, no database). Distances are great-circle (haversine) kilometres between
coordinates: there is no road network here, so every figure is an estimate. Travel time is the
straight-line distance times ``ROAD_FACTOR`` (roads are longer than the crow flies) at ``speed_kmh``.

Up to ``EXACT_MAX_STOPS`` stops the order is provably optimal (Held-Karp dynamic programming); above
that, Google OR-Tools' routing solver builds a first route by the cheapest arc and improves it by
guided local search. Both minimise the same integer costs, whole metres, so they can be compared.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG); a sphere is within about 0.5 % of the ellipsoid at these distances."""
ROAD_FACTOR = 1.3
"""Road km per straight-line km, for time estimates only: a common rule of thumb, not measured."""
EXACT_MAX_STOPS = 8
"""Held-Karp takes 2^n * n^2 steps: about 16,000 at 8 stops, instant in Python."""
MAX_STOPS = 500
"""More sites than any courier's day; bounds memory (a 501 x 501 matrix) and request time."""
SOLUTIONS_PER_SECOND = 100
"""OR-Tools stops after this many solutions per second of ``time_limit_s``, or at the limit, whichever
comes first. The solution budget makes the result repeatable (the search itself has no randomness);
the limit bounds the wait. Large inputs (from about 100 stops on a busy 2-core machine) reach the
limit first, and two runs may then differ slightly. A budget two or three times as large found up
to 3.5 % shorter routes on some 60-stop instances, but then often runs into the default limit."""

Method = Literal["trivial", "exact", "or-tools"]
"""``trivial``: zero or one stop. ``exact``: Held-Karp, optimal. ``or-tools``: heuristic, good."""


@dataclass(frozen=True)
class Point:
    """A position in decimal degrees (WGS 84)."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        # Written so that NaN fails too: every comparison with NaN is false.
        if not -90.0 <= self.latitude <= 90.0:
            raise ValueError(f"Latitude must be between -90 and 90 degrees, not {self.latitude!r}.")
        if not -180.0 <= self.longitude <= 180.0:
            raise ValueError(f"Longitude must be between -180 and 180 degrees, not {self.longitude!r}.")


@dataclass(frozen=True)
class Stop:
    """One site to visit: ``key`` is the site id as text, unique within a plan."""

    key: str
    point: Point
    parcels: int = 1
    service_minutes: float = 0.0

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("A stop needs a key (the site id).")
        if self.parcels < 0:
            raise ValueError(f"Stop {self.key!r}: parcels cannot be negative ({self.parcels}).")
        if not 0.0 <= self.service_minutes < math.inf:
            raise ValueError(f"Stop {self.key!r}: service minutes must be zero or more ({self.service_minutes!r}).")


@dataclass(frozen=True)
class Visit:
    """A stop in its place on the route. Minutes count from leaving the depot and include the service
    time at earlier stops, not at this one."""

    key: str
    order: int
    leg_km: float
    cumulative_km: float
    arrival_minutes: float


@dataclass(frozen=True)
class RoutePlan:
    """The visits in order; every km is straight-line (great-circle). ``return_km`` is the leg back to
    the depot (0 when not returning), so ``total_km`` is the last visit's ``cumulative_km`` plus
    ``return_km``; ``total_minutes`` adds all service times and the way back. ``optimal`` is true only
    when proven."""

    visits: tuple[Visit, ...]
    return_km: float
    total_km: float
    total_minutes: float
    method: Method
    optimal: bool


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in km on a sphere of radius ``EARTH_RADIUS_KM``."""
    lat_a, lon_a, lat_b, lon_b = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat_b - lat_a) / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin((lon_b - lon_a) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def travel_minutes(km: float, speed_kmh: float) -> float:
    """Estimated driving minutes for a straight-line distance: ``km * ROAD_FACTOR`` at ``speed_kmh``."""
    return km * ROAD_FACTOR / speed_kmh * 60.0


def metre_costs(points: Sequence[Point], *, return_to_depot: bool) -> list[list[int]]:
    """Whole metres between every pair; node 0 is the depot. Without a return the arcs back to the
    depot cost nothing, so a closed tour's cost is the open path's length."""
    n = len(points)
    costs = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            costs[i][j] = costs[j][i] = round(haversine_km(points[i], points[j]) * 1000)
    if not return_to_depot:
        for row in costs:
            row[0] = 0
    return costs


def exact_order(costs: Sequence[Sequence[int]]) -> list[int]:
    """The cheapest tour from node 0 through all others and back (Held-Karp), as the nodes after 0.

    ``best[mask][j]`` is the cheapest path from the depot through the stops in ``mask`` ending at stop
    ``j``. Ties go to the first found, so the answer is deterministic."""
    n = len(costs) - 1
    if n <= 0:
        return []
    full = (1 << n) - 1
    best = [[math.inf] * n for _ in range(1 << n)]
    came_from = [[-1] * n for _ in range(1 << n)]
    for j in range(n):
        best[1 << j][j] = costs[0][j + 1]
    for mask in range(1, full + 1):
        for j in range(n):
            here = best[mask][j]
            if here == math.inf:
                continue
            for k in range(n):
                if mask & (1 << k):
                    continue
                extended = mask | (1 << k)
                cost = here + costs[j + 1][k + 1]
                if cost < best[extended][k]:
                    best[extended][k], came_from[extended][k] = cost, j
    last = min(range(n), key=lambda j: best[full][j] + costs[j + 1][0])
    order: list[int] = []
    mask, j = full, last
    while j != -1:
        order.append(j + 1)
        mask, j = mask & ~(1 << j), came_from[mask][j]
    return order[::-1]


def or_tools_order(costs: Sequence[Sequence[int]], time_limit_s: float) -> list[int]:
    """A good tour from node 0 through all others and back by OR-Tools, as the nodes after 0."""
    manager = pywrapcp.RoutingIndexManager(len(costs), 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc_cost = routing.RegisterTransitMatrix([list(row) for row in costs])
    routing.SetArcCostEvaluatorOfAllVehicles(arc_cost)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    params.solution_limit = max(1, round(SOLUTIONS_PER_SECOND * time_limit_s))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise RuntimeError(f"OR-Tools found no route within {time_limit_s} s.")
    order: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(int(manager.IndexToNode(index)))
        index = solution.Value(routing.NextVar(index))
    return order


def plan_route(
    depot: Point,
    stops: Sequence[Stop],
    *,
    return_to_depot: bool = True,
    speed_kmh: float = 40.0,
    time_limit_s: float = 2.0,
) -> RoutePlan:
    """Plan the order of visits from ``depot``, shortest in straight-line km, with estimated times.

    At most ``MAX_STOPS`` stops with unique keys. ``time_limit_s`` bounds the whole call when OR-Tools
    is used (more than ``EXACT_MAX_STOPS`` stops); smaller inputs are solved exactly at once."""
    started = time.monotonic()
    _check(stops, speed_kmh=speed_kmh, time_limit_s=time_limit_s)
    method: Method
    if len(stops) <= 1:
        order, method = list(range(1, len(stops) + 1)), "trivial"
    else:
        costs = metre_costs([depot, *(stop.point for stop in stops)], return_to_depot=return_to_depot)
        if len(stops) <= EXACT_MAX_STOPS:
            order, method = exact_order(costs), "exact"
        else:
            remaining_s = max(0.05, time_limit_s - (time.monotonic() - started))
            order, method = or_tools_order(costs, remaining_s), "or-tools"
    ordered = [stops[node - 1] for node in order]
    return _timeline(depot, ordered, method, return_to_depot=return_to_depot, speed_kmh=speed_kmh)


def _check(stops: Sequence[Stop], *, speed_kmh: float, time_limit_s: float) -> None:
    if len(stops) > MAX_STOPS:
        raise ValueError(f"A route can have at most {MAX_STOPS} stops, not {len(stops)}.")
    repeated = sorted(key for key, count in Counter(stop.key for stop in stops).items() if count > 1)
    if repeated:
        raise ValueError(f"Each stop must have its own key; repeated: {', '.join(map(repr, repeated))}.")
    if not 0.0 < speed_kmh < math.inf:
        raise ValueError(f"Speed must be a positive number of km/h, not {speed_kmh!r}.")
    if not 0.0 < time_limit_s < math.inf:
        raise ValueError(f"The time limit must be a positive number of seconds, not {time_limit_s!r}.")


def _timeline(
    depot: Point, ordered: Sequence[Stop], method: Method, *, return_to_depot: bool, speed_kmh: float
) -> RoutePlan:
    visits: list[Visit] = []
    km = minutes = 0.0
    here = depot
    for number, stop in enumerate(ordered, start=1):
        leg = haversine_km(here, stop.point)
        km += leg
        minutes += travel_minutes(leg, speed_kmh)
        visits.append(Visit(stop.key, number, leg, km, minutes))
        minutes += stop.service_minutes
        here = stop.point
    back = haversine_km(here, depot) if return_to_depot else 0.0
    return RoutePlan(
        visits=tuple(visits),
        return_km=back,
        total_km=km + back,
        total_minutes=minutes + travel_minutes(back, speed_kmh),
        method=method,
        optimal=method != "or-tools",
    )
