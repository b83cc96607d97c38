"""Demo locker hardware for ``samverka up``: simulators, their registration, and the gateway.

The simulators run in their own process and describe themselves in a manifest; the
lockers are registered through the public GraphQL API as each municipality's admin
would; the gateway gets a configuration file. Nothing here imports the simulators,
the gateway or the lockers plugin (they are separate processes and a plugin).

For the demo integrator (``backend.demo_deliveries``) each municipality's admin also enables
deliveries with demo-friendly settings and grants the e-shop an API token. The manifest's one
``cabinet`` locker becomes a medicine cabinet in a home in Götene (``backend.demo_cabinets``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from backend.seed import DEMO_PASSWORD
from backend.settings import Settings

# Which municipality runs which vendor's lockers, and where (town centres).
SITES: dict[str, tuple[str, str, float, float]] = {
    "kylbox": ("lidkoping", "Hemtjänsten Lidköping centrum", 58.5052, 13.1577),
    "frostlogik": ("skara", "Äldreboendet i Skara", 58.3866, 13.4385),
    "nordlas": ("vara", "Vara vårdcentral", 58.2617, 12.9556),
}
NORDLAS_PASSWORD_ENV = "NORDLAS_PASSWORD"
PEOPLE_KEY = "samverka:demo:people"  # the Redis list the simulators take people's actions from
CABINET = "cabinet"  # the medicine cabinet's endpoint in ``endpoints.json`` (the others go by vendor)


class DemoError(RuntimeError):
    pass


def demo_dir(settings: Settings) -> Path:
    return settings.data_dir / "demo"


def start_simulators(settings: Settings, base_port: int) -> subprocess.Popen[bytes]:
    """The simulators' process; it also takes people's actions at the lockers from ``PEOPLE_KEY``."""
    manifest = demo_dir(settings) / "simulators.json"
    manifest.unlink(missing_ok=True)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opcua_gateway.simulators.demo",
            "--dir",
            str(demo_dir(settings)),
            "--base-port",
            str(base_port),
            "--people-key",
            PEOPLE_KEY,
        ],
        env={**os.environ, "SAMVERKA_REDIS_URL": settings.redis_url or ""},
    )


def wait_for_manifest(settings: Settings, process: subprocess.Popen[bytes], timeout_s: float = 60) -> list[Any]:
    manifest = demo_dir(settings) / "simulators.json"
    deadline = time.monotonic() + timeout_s
    while not manifest.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise DemoError("the demo simulators did not start; see the output above")
        time.sleep(0.2)
    return list(json.loads(manifest.read_text()))


class Api:
    """GraphQL as one demo account at a time (``sign_in``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = ""

    def __call__(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
        ).json()
        if body.get("errors"):
            raise DemoError(f"demo registration failed: {body['errors']}")
        return dict(body["data"])

    def result(self, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        value = dict(self(query, variables)[field])
        if "code" in value:
            raise DemoError(f"demo registration failed in {field}: {value}")
        return value

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        login = self(LOGIN, {"e": email, "p": password})["login"]
        if not login or "token" not in login:
            raise DemoError(f"the demo could not sign in as {email}")
        self.token = str(login["token"])


LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }"
ENABLE = 'mutation { enablePlugin(pluginId: "lockers") { __typename ... on Error { code message } } }'
SITE = """mutation($i: RegisterSiteInput!) { registerSite(input: $i) { __typename ... on Site { id }
  ... on Error { code message } } }"""
ENDPOINT = """mutation($i: RegisterEndpointInput!) { registerEndpoint(input: $i) { __typename
  ... on LockerEndpoint { id } ... on Error { code message } } }"""
LOCKER = """mutation($i: RegisterLockerInput!) { registerLocker(input: $i) { __typename
  ... on LockerRegistered { locker { id } compartments { id key } } ... on Error { code message } } }"""


def vendor_lockers(manifest: list[Any]) -> list[Any]:
    """The simulators of the vendors' lockers in town (not the medicine cabinet)."""
    return [sim for sim in manifest if not sim.get("cabinet")]


def endpoint_key(sim: dict[str, Any]) -> str:
    return CABINET if sim.get("cabinet") else str(sim["vendor"])


def register_locker(api: Api, site_id: str, endpoint_id: str, locker: dict[str, Any], name: str) -> dict[str, Any]:
    """Register one of the manifest's lockers; its id and its compartments' ids by key."""
    compartments = [
        {"key": c["key"], "temperatureClass": c["temperature_class"].upper(), "sizeClass": c["size_class"]}
        for c in locker["compartments"]
    ]
    registered = api.result(
        LOCKER,
        {
            "i": {
                "siteId": site_id,
                "endpointId": endpoint_id,
                "vendorLockerId": locker["id"],
                "name": name,
                "compartments": compartments,
            }
        },
        "registerLocker",
    )
    return {
        "locker": registered["locker"]["id"],
        "compartments": {c["key"]: c["id"] for c in registered["compartments"]},
    }


def register(settings: Settings, manifest: list[Any]) -> dict[str, str]:
    """Register each vendor's lockers with its municipality once, and the medicine cabinet (its
    assignments renewed on every start); the endpoint id per vendor (and ``CABINET``)."""
    saved = demo_dir(settings) / "endpoints.json"
    api = Api(settings.public_url)
    endpoints = json.loads(saved.read_text()) if saved.exists() else register_vendors(api, vendor_lockers(manifest))
    for sim in manifest:
        if sim.get("cabinet"):
            from backend import demo_cabinets  # it builds on this module

            cabinet = demo_cabinets.prepare(demo_dir(settings), api, sim)
            if cabinet is None:
                endpoints.pop(CABINET, None)
                print("demo: no medicine cabinet demo: lockers, fault_reports or medicine_cabinets is left out")
            else:
                endpoints[CABINET] = cabinet["endpoint"]
                demo_cabinets.guide(settings.public_url, cabinet, print)
    saved.write_text(json.dumps(endpoints, indent=2))
    return dict(endpoints)


def register_vendors(api: Api, manifest: list[Any]) -> dict[str, str]:
    endpoints: dict[str, str] = {}
    for sim in manifest:
        slug, site_name, lat, lon = SITES[sim["vendor"]]
        api.sign_in(f"admin@{slug}.example")
        api.result(ENABLE, {}, "enablePlugin")
        site = api.result(SITE, {"i": {"name": site_name, "latitude": lat, "longitude": lon}}, "registerSite")
        endpoint = api.result(
            ENDPOINT, {"i": {"name": sim["vendor"], "vendor": sim["vendor"], "url": sim["url"]}}, "registerEndpoint"
        )
        for number, locker in enumerate(sim["lockers"], start=1):
            register_locker(api, site["id"], endpoint["id"], locker, f"Skåp {number}")  # messages name the site
        endpoints[sim["vendor"]] = endpoint["id"]
    return endpoints


INTEGRATOR = "Demohandeln"
INTEGRATOR_FILE = "integrator.json"
ME = "{ me { kind municipality { id name } } }"
DELIVERIES = """mutation($c: JSON) { enablePlugin(pluginId: "deliveries", config: $c) { __typename
  ... on Error { code message } } }"""
TOKEN = """mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { __typename
  ... on ApiTokenCreated { token } ... on Error { code message } } }"""
LAYOUT = """{ lockerEndpoints { id vendor }
  lockers { siteId endpointId vendorLockerId compartments { id key temperatureClass sizeClass } } }"""


def deliveries_settings(slug: str) -> dict[str, Any]:
    """Short times, so someone watching sees pickups, expiries, returns and a broken cold chain."""
    return {
        "pickup_hours": 0.05,  # 3 min to collect, then it expires and goes back
        "return_hours": 0.25,  # 15 min for the courier to take it back
        "reminder_hours": 0.02,  # an SMS reminder 72 s before the deadline
        "dropoff_grace_minutes": 5,
        "cold_chain_allowed_minutes": 1,
        "alert_email": f"kylkedja@{slug}.example",
    }


def _token_works(url: str, token: str) -> bool:
    body = httpx.post(
        f"{url}/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    return not body.get("errors") and (body.get("data") or {}).get("me", {}).get("kind") == "token"


def prepare_integrator(
    url: str, email: str, password: str, settings: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """As the municipality's admin (``email``): enable deliveries with ``settings`` and grant the
    e-shop a token (unless ``token`` still works). Returns what the integrator process needs: the
    token, the municipality, and where each compartment is (the people at the lockers need that;
    the e-shop's token may not read lockers)."""
    api = Api(url)
    api.sign_in(email, password)
    municipality = api(ME, {})["me"]["municipality"]
    api.result(DELIVERIES, {"c": settings}, "enablePlugin")
    if token is None or not _token_works(url, token):
        scopes = ["deliveries:read", "deliveries:write"]
        token = str(api.result(TOKEN, {"i": {"name": INTEGRATOR, "scopes": scopes}}, "createApiToken")["token"])
    layout = api(LAYOUT, {})
    vendors = {e["id"]: e["vendor"] for e in layout["lockerEndpoints"]}
    compartments = {
        c["id"]: {
            "site_id": locker["siteId"],
            "vendor": vendors[locker["endpointId"]],
            "locker": locker["vendorLockerId"],
            "key": c["key"],
            "temperature_class": c["temperatureClass"],
            "size_class": c["sizeClass"],
        }
        for locker in layout["lockers"]
        for c in locker["compartments"]
    }
    return {
        "municipality": municipality["name"],
        "tenant_id": municipality["id"],
        "token": token,
        "compartments": compartments,
    }


def prepare_demo_integrator(settings: Settings, manifest: list[Any]) -> Path:
    """Prepare the e-shop in every municipality with demo lockers; the file the integrator reads.
    Its tokens are kept there for the next start (demo data, like the data directory's database)."""
    path = demo_dir(settings) / INTEGRATOR_FILE
    saved = {m["slug"]: m["token"] for m in json.loads(path.read_text())} if path.exists() else {}
    prepared = []
    for sim in vendor_lockers(manifest):
        slug = SITES[sim["vendor"]][0]
        admin = f"admin@{slug}.example"
        access = prepare_integrator(
            settings.public_url, admin, DEMO_PASSWORD, deliveries_settings(slug), saved.get(slug)
        )
        prepared.append({"slug": slug, **access})
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # it holds API tokens
    partial.write_text(json.dumps(prepared, indent=2, ensure_ascii=False))
    os.replace(partial, path)
    return path


def gateway_config(settings: Settings, manifest: list[Any], endpoints: dict[str, str]) -> Path:
    """Write the gateway's configuration (JSON is valid YAML) for the demo endpoints."""
    entries = []
    for sim in manifest:
        if endpoint_key(sim) not in endpoints:  # the cabinet, when its plugins are left out
            continue
        entry: dict[str, Any] = {"id": endpoints[endpoint_key(sim)], "url": sim["url"], "profile": sim["vendor"]}
        if sim["vendor"] == "nordlas":
            entry |= {
                "security": "sign_and_encrypt",
                "trust": [sim["certificate"]],
                "username": "gateway",
                "password_env": NORDLAS_PASSWORD_ENV,
            }
        entries.append(entry)
    directory = settings.data_dir / "gateway"
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "redis_url": settings.redis_url,
        "outbox": str(directory / "outbox.sqlite3"),
        "pki_dir": str(directory / "pki"),
        "telemetry_interval_s": 5.0,
        "endpoints": entries,
    }
    path = directory / "gateway.yaml"
    path.write_text(json.dumps(config, indent=2))
    return path
