"""Route planning for a courier's day: distances, the exact and OR-Tools solvers, figures, bad input."""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Sequence

import pytest

from plugins.deliveries.routing import (
    EARTH_RADIUS_KM,
    EXACT_MAX_STOPS,
    MAX_STOPS,
    ROAD_FACTOR,
    Point,
    Stop,
    exact_order,
    haversine_km,
    metre_costs,
    or_tools_order,
    plan_route,
)

LIDKOPING = Point(58.5035, 13.1577)
SKARA = Point(58.3862, 13.4383)


def chord_angle_km(a: Point, b: Point) -> float:
    """Great-circle distance by another route than haversine: the angle between unit vectors."""

    def unit(p: Point) -> tuple[float, float, float]:
        lat, lon = math.radians(p.latitude), math.radians(p.longitude)
        return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)

    (ax, ay, az), (bx, by, bz) = unit(a), unit(b)
    cross = math.dist((0, 0, 0), (ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx))
    return EARTH_RADIUS_KM * math.atan2(cross, ax * bx + ay * by + az * bz)


def tour_metres(costs: Sequence[Sequence[int]], order: Sequence[int]) -> int:
    path = [0, *order, 0]
    return sum(costs[a][b] for a, b in itertools.pairwise(path))


def random_stops(rng: random.Random, count: int) -> list[Stop]:
    """Sites scattered over about 60 x 60 km of Skaraborg."""
    return [
        Stop(f"site-{i}", Point(58.4 + rng.uniform(-0.3, 0.3), 13.4 + rng.uniform(-0.5, 0.5))) for i in range(count)
    ]


def on_a_meridian(*km_north: float) -> list[Stop]:
    """Stops due north of LIDKOPING, keyed by their distance in km."""
    degrees = 180 / (math.pi * EARTH_RADIUS_KM)
    return [Stop(f"{km:g}", Point(LIDKOPING.latitude + km * degrees, LIDKOPING.longitude)) for km in km_north]


# Distances


def test_lidkoping_to_skara_is_about_21_km_as_the_crow_flies_by_two_independent_formulas() -> None:
    km = haversine_km(LIDKOPING, SKARA)
    assert km == pytest.approx(chord_angle_km(LIDKOPING, SKARA), abs=1e-9)
    assert 20.0 < km < 22.0
    assert haversine_km(SKARA, LIDKOPING) == km


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        (Point(0, 0), Point(1, 0), math.pi * EARTH_RADIUS_KM / 180),  # one degree along a meridian
        (Point(0, 0), Point(0, 90), math.pi * EARTH_RADIUS_KM / 2),  # a quarter of the equator
        (Point(90, 0), Point(-90, 0), math.pi * EARTH_RADIUS_KM),  # pole to pole
        (Point(10, 0), Point(-10, 180), math.pi * EARTH_RADIUS_KM),  # antipodes: rounding must not raise
        (Point(0, 179.5), Point(0, -179.5), math.pi * EARTH_RADIUS_KM / 180),  # across the date line
        (SKARA, SKARA, 0.0),
    ],
)
def test_haversine_gives_the_known_distances_on_the_sphere(a: Point, b: Point, expected_km: float) -> None:
    # Relative 1e-8: near the antipodes haversine loses a fraction of a metre in 20,000 km.
    assert haversine_km(a, b) == pytest.approx(expected_km, rel=1e-8, abs=1e-9)


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90.01, 0), (-91, 0), (0, 180.5), (0, -181), (math.nan, 0), (0, math.inf)]
)
def test_a_point_off_the_globe_is_refused(latitude: float, longitude: float) -> None:
    with pytest.raises(ValueError, match="itude must be between"):
        Point(latitude, longitude)


# The exact solver


def test_stops_on_a_line_are_visited_in_order_when_the_courier_does_not_return() -> None:
    plan = plan_route(LIDKOPING, on_a_meridian(7, 2, 5, 1, 3), return_to_depot=False)
    assert [v.key for v in plan.visits] == ["1", "2", "3", "5", "7"]
    assert plan.total_km == pytest.approx(7.0) and plan.method == "exact" and plan.optimal


def test_stops_on_a_line_are_visited_in_one_sweep_there_and_back() -> None:
    plan = plan_route(LIDKOPING, on_a_meridian(7, 2, 5, 1, 3))
    assert [v.key for v in plan.visits] in (["1", "2", "3", "5", "7"], ["7", "5", "3", "2", "1"])
    assert plan.total_km == pytest.approx(14.0)


def test_without_a_return_the_near_side_comes_first() -> None:
    # Depot at 0 with stops at -1 and +3: -1 then +3 is 5 km, +3 then -1 would be 7.
    plan = plan_route(LIDKOPING, on_a_meridian(3, -1), return_to_depot=False)
    assert [v.key for v in plan.visits] == ["-1", "3"] and plan.total_km == pytest.approx(5.0)


def test_the_corners_of_a_square_are_visited_round_the_edge_not_across() -> None:
    depot = Point(0, 0)
    stops = [Stop("far", Point(0.1, 0.1)), Stop("north", Point(0.1, 0)), Stop("east", Point(0, 0.1))]
    plan = plan_route(depot, stops)
    assert [v.key for v in plan.visits] in (["north", "far", "east"], ["east", "far", "north"])


@pytest.mark.parametrize("seed", range(6))
def test_held_karp_agrees_with_trying_every_order(seed: int) -> None:
    rng = random.Random(seed)
    stops = random_stops(rng, 6 + seed % 2)
    costs = metre_costs([LIDKOPING, *(s.point for s in stops)], return_to_depot=seed % 3 != 0)
    brute_force = min(tour_metres(costs, order) for order in itertools.permutations(range(1, len(stops) + 1)))
    assert tour_metres(costs, exact_order(costs)) == brute_force


# OR-Tools


@pytest.mark.parametrize("seed", range(8))
def test_or_tools_finds_the_exact_optimum_on_small_instances(seed: int) -> None:
    rng = random.Random(1000 + seed)
    stops = random_stops(rng, rng.randint(6, EXACT_MAX_STOPS))
    for return_to_depot in (True, False):
        costs = metre_costs([LIDKOPING, *(s.point for s in stops)], return_to_depot=return_to_depot)
        order = or_tools_order(costs, time_limit_s=2.0)
        assert sorted(order) == list(range(1, len(stops) + 1))
        assert tour_metres(costs, order) == tour_metres(costs, exact_order(costs))


def test_sixty_stops_are_planned_within_the_time_limit_each_visited_once() -> None:
    stops = random_stops(random.Random(60), 60)
    started = time.monotonic()
    plan = plan_route(LIDKOPING, stops, time_limit_s=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 0.5  # the margin is for building the model and a busy test machine
    assert sorted(v.key for v in plan.visits) == sorted(s.key for s in stops)
    assert [v.order for v in plan.visits] == list(range(1, 61))
    assert plan.method == "or-tools" and not plan.optimal


def test_or_tools_sweeps_a_line_of_more_stops_than_the_exact_solver_takes() -> None:
    km = list(range(1, 13))
    plan = plan_route(LIDKOPING, on_a_meridian(*random.Random(12).sample(km, len(km))), return_to_depot=False)
    assert [v.key for v in plan.visits] == [str(k) for k in km] and plan.method == "or-tools"


def test_the_same_input_gives_the_same_plan() -> None:
    stops = random_stops(random.Random(20), 20)
    assert plan_route(LIDKOPING, stops) == plan_route(LIDKOPING, stops)


def test_up_to_eight_stops_are_solved_exactly_and_nine_by_or_tools() -> None:
    stops = random_stops(random.Random(9), EXACT_MAX_STOPS + 1)
    assert plan_route(LIDKOPING, stops[:-1]).method == "exact"
    assert plan_route(LIDKOPING, stops).method == "or-tools"


# Figures


@pytest.mark.parametrize("return_to_depot", [True, False])
def test_cumulative_distances_and_arrival_times_add_up(return_to_depot: bool) -> None:
    stops = [
        Stop(s.key, s.point, parcels=i + 1, service_minutes=2.5 * i)
        for i, s in enumerate(random_stops(random.Random(5), 12))
    ]
    plan = plan_route(LIDKOPING, stops, return_to_depot=return_to_depot, speed_kmh=50.0)
    service = {s.key: s.service_minutes for s in stops}
    point = {s.key: s.point for s in stops}
    here, km, minutes = LIDKOPING, 0.0, 0.0
    for visit in plan.visits:
        assert visit.leg_km == pytest.approx(haversine_km(here, point[visit.key]))
        km += visit.leg_km
        minutes += visit.leg_km * ROAD_FACTOR / 50.0 * 60
        assert visit.cumulative_km == pytest.approx(km)
        assert visit.arrival_minutes == pytest.approx(minutes)
        minutes += service[visit.key]
        here = point[visit.key]
    expected_return = haversine_km(here, LIDKOPING) if return_to_depot else 0.0
    assert plan.return_km == pytest.approx(expected_return)
    assert plan.total_km == pytest.approx(km + expected_return)
    assert plan.total_minutes == pytest.approx(minutes + expected_return * ROAD_FACTOR / 50.0 * 60)


def test_travel_time_is_the_road_factor_times_the_straight_line_at_the_given_speed() -> None:
    plan = plan_route(LIDKOPING, [Stop("skara", SKARA, service_minutes=4.0)], speed_kmh=60.0)
    one_way = haversine_km(LIDKOPING, SKARA)
    assert plan.visits[0].arrival_minutes == pytest.approx(one_way * ROAD_FACTOR)  # 60 km/h: a km a minute
    assert plan.total_minutes == pytest.approx(2 * one_way * ROAD_FACTOR + 4.0)
    assert plan.method == "trivial" and plan.optimal


def test_no_stops_give_an_empty_plan() -> None:
    plan = plan_route(LIDKOPING, [])
    assert plan.visits == () and plan.total_km == 0.0 and plan.total_minutes == 0.0 and plan.optimal


# Bad input


def test_repeated_keys_are_refused_and_named() -> None:
    stops = [Stop("7", LIDKOPING), Stop("12", SKARA), Stop("7", SKARA)]
    with pytest.raises(ValueError, match="repeated: '7'"):
        plan_route(LIDKOPING, stops)


def test_more_stops_than_the_limit_are_refused() -> None:
    stops = [Stop(str(i), LIDKOPING) for i in range(MAX_STOPS + 1)]
    with pytest.raises(ValueError, match=f"at most {MAX_STOPS} stops"):
        plan_route(LIDKOPING, stops)


@pytest.mark.parametrize(
    ("speed_kmh", "time_limit_s", "message"),
    [(0.0, 2.0, "Speed"), (math.nan, 2.0, "Speed"), (40.0, 0.0, "time limit"), (40.0, math.inf, "time limit")],
)
def test_a_speed_or_time_limit_that_is_not_positive_is_refused(
    speed_kmh: float, time_limit_s: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plan_route(LIDKOPING, [Stop("skara", SKARA)], speed_kmh=speed_kmh, time_limit_s=time_limit_s)


@pytest.mark.parametrize(
    ("key", "parcels", "service_minutes", "message"),
    [("", 1, 0.0, "needs a key"), ("a", -1, 0.0, "parcels"), ("a", 1, -1.0, "service"), ("a", 1, math.nan, "service")],
)
def test_a_stop_without_a_key_or_with_negative_figures_is_refused(
    key: str, parcels: int, service_minutes: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Stop(key, SKARA, parcels=parcels, service_minutes=service_minutes)
