"""OPC UA transport for one endpoint: knows asyncua, not vendors.

One ``asyncua.Client`` per endpoint with ``auto_reconnect=True`` (asyncua re-opens the
channel and session and restores subscriptions), the first connection retried with
exponential backoff, SignAndEncrypt with the gateway's certificate after checking the
server's certificate against the endpoint's trust list, user/password, and ``retry``:
a wrapper that re-runs a call that failed because the connection was being re-made.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from opcua_gateway.config import Endpoint
from opcua_gateway.mapping import Quality, Reading
from opcua_gateway.pki import APPLICATION_URI, Pki

log = logging.getLogger(__name__)
T = TypeVar("T")

POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128Sha256RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256Sha256RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
# Status codes that mean "the connection is going or gone", not "the server refused".
TRANSIENT_STATUS = frozenset({
    StatusCodes.BadConnectionClosed, StatusCodes.BadSessionClosed, StatusCodes.BadSessionIdInvalid,
    StatusCodes.BadSecureChannelClosed, StatusCodes.BadSecureChannelIdInvalid,
    StatusCodes.BadServerNotConnected, StatusCodes.BadCommunicationError, StatusCodes.BadTimeout,
    StatusCodes.BadNotConnected, StatusCodes.BadRequestTimeout, StatusCodes.BadShutdown,
    StatusCodes.BadServerHalted, StatusCodes.BadTooManySessions, StatusCodes.BadNoCommunication,
})
# What a broken connection raises (asyncua: ConnectionError mid-reconnect, OSError from sockets).
CONNECTION_ERRORS = (ConnectionError, OSError, TimeoutError, UaError)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, UaStatusCodeError):
        return exc.code in TRANSIENT_STATUS
    return isinstance(exc, ConnectionError | OSError | TimeoutError)


def std_node(identifier: int) -> ua.NodeId:
    """A node of namespace 0 by its numeric id (ua.ObjectIds)."""
    return ua.NodeId(ua.Int32(identifier))


def reading_of(value: ua.DataValue) -> Reading:
    code = value.StatusCode if value.StatusCode is not None else ua.StatusCode()
    quality: Quality = "good" if code.is_good() else "uncertain" if code.is_uncertain() else "bad"
    raw = value.Value.Value if value.Value is not None else None
    return Reading(raw, code.name, quality, value.SourceTimestamp or value.ServerTimestamp)


class Transport:
    def __init__(self, endpoint: Endpoint, pki: Pki, *, request_timeout_s: float, reconnect_max_delay_s: float) -> None:
        self.endpoint = endpoint
        self.pki = pki
        self.request_timeout_s = request_timeout_s
        self.reconnect_max_delay_s = reconnect_max_delay_s
        self.client: Client | None = None
        self.ready = asyncio.Event()  # set while the session is usable
        self.last_error = ""

    async def connect_forever(self, on_failure: Callable[[str], Awaitable[None]] | None = None) -> Client:
        """Connect, retrying with exponential backoff and jitter until it works."""
        delay = 0.5
        while True:
            try:
                return await self.connect()
            except asyncio.CancelledError:
                raise
            except (ConnectionError, OSError, TimeoutError, UaError, ValueError) as exc:
                self.last_error = f"cannot connect to {self.endpoint.config.url}: {_text(exc)}"
                log.warning("%s: %s; next try in %.1f s", self.endpoint.id, self.last_error, delay)
                if on_failure is not None:
                    await on_failure(self.last_error)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.reconnect_max_delay_s)

    async def connect(self) -> Client:
        await self.close()
        cfg = self.endpoint.config
        client = Client(cfg.url, timeout=self.request_timeout_s, watchdog_intervall=1.0, auto_reconnect=True,
                        reconnect_max_delay=self.reconnect_max_delay_s,
                        reconnect_request_timeout=self.request_timeout_s)
        client.application_uri = APPLICATION_URI
        client.name = client.description = f"Samverka gateway ({self.endpoint.id})"
        client.session_timeout = 60_000
        if cfg.username is not None:
            client.set_user(cfg.username)
            password = self.endpoint.password()
            if password is not None:
                client.set_password(password)
        if cfg.security == "sign_and_encrypt":
            await self._secure(client)
        try:
            await asyncio.wait_for(client.connect(), timeout=self.request_timeout_s * 3)
        except BaseException:
            await _quiet_disconnect(client)
            raise
        self.client = client
        self.ready.set()
        self.last_error = ""
        log.info("%s: connected to %s", self.endpoint.id, cfg.url)
        return client

    async def _secure(self, client: Client) -> None:
        cfg = self.endpoint.config
        certificate, key = await self.pki.ensure_own_certificate()
        policy = POLICIES[cfg.policy]
        mode = ua.MessageSecurityMode.SignAndEncrypt
        endpoints = await asyncio.wait_for(client.connect_and_get_server_endpoints(), self.request_timeout_s * 2)
        chosen = Client.find_endpoint(endpoints, mode, policy.URI)
        server_cert = _first_certificate(chosen.ServerCertificate)
        await asyncio.to_thread(self.pki.check, server_cert, self.endpoint.trust)
        await client.set_security(policy, str(certificate), str(key), server_certificate=server_cert, mode=mode)
        client.certificate_validator = self.pki.validator(self.endpoint.trust)

    async def close(self) -> None:
        self.ready.clear()
        client, self.client = self.client, None
        if client is not None:
            await _quiet_disconnect(client)

    def require(self) -> Client:
        if self.client is None or not self.ready.is_set():
            raise ConnectionError(self.last_error or f"endpoint {self.endpoint.id} is not connected")
        return self.client

    def on_state(self, state: UaClientState) -> None:
        if state is UaClientState.CONNECTED:
            self.ready.set()
        else:
            self.ready.clear()

    async def retry(self, op: Callable[[Client], Awaitable[T]], *, deadline: float) -> T:
        """Run ``op``; when the connection fails under it, wait for it to come back and run it
        again, until ``deadline`` (loop time). Errors the server answers with are not retried."""
        loop = asyncio.get_running_loop()
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"endpoint {self.endpoint.id} did not answer in time")
            scope = asyncio.timeout(remaining)
            try:
                async with scope:
                    await self.ready.wait()
                    return await op(self.require())
            except CONNECTION_ERRORS as exc:
                if scope.expired():
                    raise TimeoutError(f"endpoint {self.endpoint.id} did not answer in time") from exc
                if not is_transient(exc):
                    raise
                log.info("%s: call failed during a reconnect (%s); retrying", self.endpoint.id, _text(exc))
                await asyncio.sleep(min(0.2, max(deadline - loop.time(), 0)))

    async def read(self, client: Client, nodes: Sequence[ua.NodeId]) -> list[Reading]:
        values = await client.uaclient.read_attributes(list(nodes), AttributeIds.Value)
        return [reading_of(v) for v in values]


def _first_certificate(der: bytes | None) -> bytes:
    if not der:
        raise ConnectionError("the server offers no certificate for SignAndEncrypt")
    length = int.from_bytes(der[2:4], "big") + 4  # the first DER SEQUENCE of a chain
    return der[:length]


async def _quiet_disconnect(client: Client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), timeout=2)
    except CONNECTION_ERRORS as exc:
        log.debug("disconnect: %s", _text(exc))


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
