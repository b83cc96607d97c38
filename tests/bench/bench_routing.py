"""Route planning benchmark: plan_route on 8 (exact), 10, 50 and 200 random stops vs nearest neighbour.

Pure CPU, no servers. For each size, three fixed-seed instances of sites scattered over about 60 x 60 km
around Skara, depot in Lidköping, return to the depot, default time limit (2 s). Prints the wall time,
the planned km, the km of a greedy nearest-neighbour tour on the same instance and the saving, and
whether a second run gave the same plan. Informational: always exits 0; about a minute.

    .venv/bin/python tests/bench/bench_routing.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from plugins.deliveries.routing import Point, RoutePlan, Stop, haversine_km, plan_route  # noqa: E402

DEPOT = Point(58.5035, 13.1577)
SIZES, SEEDS = (8, 10, 50, 200), (1, 2, 3)


def say(text: str) -> None:
    print(text, flush=True)


def instance(seed: int, count: int) -> list[Stop]:
    rng = random.Random(seed * 1000 + count)
    return [Stop(f"s{i}", Point(58.4 + rng.uniform(-0.3, 0.3), 13.4 + rng.uniform(-0.5, 0.5))) for i in range(count)]


def nearest_neighbour_km(depot: Point, stops: list[Stop]) -> float:
    """Always drive to the closest site not yet visited, then home: the baseline a planner must beat."""
    here, left, km = depot, list(stops), 0.0
    while left:
        closest = min(left, key=lambda stop: haversine_km(here, stop.point))
        km += haversine_km(here, closest.point)
        here = closest.point
        left.remove(closest)
    return km + haversine_km(here, depot)


def timed(stops: list[Stop]) -> tuple[RoutePlan, float]:
    started = time.perf_counter()
    plan = plan_route(DEPOT, stops)
    return plan, time.perf_counter() - started


def main() -> None:
    say(f"{'stops':>5} {'seed':>4} {'method':>8} {'time s':>7} {'km':>8} {'NN km':>8} {'saving':>7} {'same again':>10}")
    for count in SIZES:
        savings = []
        for seed in SEEDS:
            stops = instance(seed, count)
            plan, seconds = timed(stops)
            again, _ = timed(stops)
            baseline = nearest_neighbour_km(DEPOT, stops)
            savings.append(1 - plan.total_km / baseline)
            say(
                f"{count:>5} {seed:>4} {plan.method:>8} {seconds:>7.2f} {plan.total_km:>8.1f} {baseline:>8.1f}"
                f" {savings[-1]:>7.1%} {'yes' if again == plan else 'NO':>10}"
            )
        say(f"{count:>5} mean saving vs nearest neighbour: {statistics.mean(savings):.1%}")


if __name__ == "__main__":
    main()
