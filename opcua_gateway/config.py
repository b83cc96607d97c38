"""The gateway's configuration file (YAML), validated into typed structs.

Relative paths (outbox, pki_dir, trust files, profile files) are taken relative to the
configuration file's folder. ``redis_url`` falls back to ``SAMVERKA_REDIS_URL``. Every
endpoint's profile is loaded here, so a broken profile stops the gateway at start with
the file, line and field named.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from opcua_gateway.profile import Profile
from opcua_gateway.profile_loader import load_profile
from opcua_gateway.yamlsource import ConfigError, load

Seconds = Annotated[float, msgspec.Meta(gt=0)]
_ENDPOINT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class AlarmPolicy(_Spec, frozen=True, kw_only=True):
    """Site policy for derived alarms and health (not vendor knowledge, so not in profiles)."""

    door_ajar_s: Seconds = 120.0  # a door open longer than this raises DOOR_AJAR
    temperature_delay_s: Annotated[float, msgspec.Meta(ge=0)] = 300.0  # outside the class band this long
    temperature_hysteresis_c: Annotated[float, msgspec.Meta(ge=0)] = 0.5  # back inside by this much clears
    stale_after_s: Seconds = 30.0  # connected but no data from a locker this long -> stale
    stuck_after_s: Seconds | None = None  # a temperature that does not change at all this long -> stale


class EndpointConfig(_Spec, frozen=True, kw_only=True):
    id: str  # opaque to the gateway: "<tenant hex>.<name>"
    url: str
    profile: str  # a bundled profile name (kylbox) or a path
    security: Literal["none", "sign_and_encrypt"] = "none"
    policy: Literal["Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"] = "Basic256Sha256"
    trust: list[str] = []  # trusted server certificates (files or folders); default: <pki_dir>/trusted
    username: str | None = None
    password_env: str | None = None  # the environment variable holding the password
    alarms: AlarmPolicy | None = None  # overrides the gateway-wide policy
    enabled: bool = True


class GatewayConfig(_Spec, frozen=True, kw_only=True):
    redis_url: str | None = None
    outbox: str = "data/gateway/outbox.sqlite3"
    pki_dir: str = "data/gateway/pki"
    instance: str = "gateway"  # consumer name in the command streams' consumer group; keep it stable
    alarms: AlarmPolicy = AlarmPolicy()
    telemetry_interval_s: Seconds = 10.0  # a Telemetry sample per compartment this often
    temperature_deadband_c: Annotated[float, msgspec.Meta(ge=0)] = 0.5  # smaller moves are not a StateChanged
    request_timeout_s: Seconds = 4.0
    reconnect_max_delay_s: Seconds = 30.0
    tick_s: Seconds = 0.5  # how often timers (alarms, health, telemetry) are evaluated
    endpoints: list[EndpointConfig]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint with its profile loaded and its paths resolved."""

    config: EndpointConfig
    profile: Profile
    alarms: AlarmPolicy
    trust: tuple[Path, ...]

    @property
    def id(self) -> str:
        return self.config.id

    def password(self) -> str | None:
        if self.config.password_env is None:
            return None
        value = os.environ.get(self.config.password_env)
        if value is None:
            raise ConfigError("environment", None, self.config.password_env,
                              f"endpoint {self.id}: the password variable is not set")
        return value


@dataclass(frozen=True)
class Settings:
    file: Path
    config: GatewayConfig
    redis_url: str
    outbox: Path
    pki_dir: Path
    endpoints: tuple[Endpoint, ...]


def load_config(file: Path) -> Settings:
    doc = load(file)
    config = doc.convert(GatewayConfig)
    base = file.resolve().parent
    redis_url = config.redis_url or os.environ.get("SAMVERKA_REDIS_URL")
    if not redis_url:
        raise doc.error(("redis_url",), "no Redis URL: set redis_url or SAMVERKA_REDIS_URL")
    pki_dir = _under(base, config.pki_dir)
    endpoints: list[Endpoint] = []
    seen: set[str] = set()
    for i, ep in enumerate(config.endpoints):
        if not _ENDPOINT_ID.match(ep.id):
            raise doc.error(("endpoints", i, "id"), f"{ep.id!r} is not a valid endpoint id")
        if ep.id in seen:
            raise doc.error(("endpoints", i, "id"), f"endpoint {ep.id} is configured twice")
        seen.add(ep.id)
        if not ep.url.startswith("opc.tcp://"):
            raise doc.error(("endpoints", i, "url"), "an endpoint URL starts with opc.tcp://")
        if ep.password_env is not None and ep.username is None:
            raise doc.error(("endpoints", i, "password_env"), "a password needs a username")
        trust = tuple(_under(base, t) for t in ep.trust) or (pki_dir / "trusted",)
        profile = load_profile(ep.profile, relative_to=base)
        endpoints.append(Endpoint(ep, profile, ep.alarms or config.alarms, trust))
    return Settings(file, config, redis_url, _under(base, config.outbox), pki_dir, tuple(endpoints))


def _under(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
