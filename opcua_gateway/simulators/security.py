"""Server certificates and user accounts of the simulated vendor servers.

A simulator generates a self-signed application instance certificate (OPC 10000-6 6.2.2) on
first start into the PKI directory it is given and reuses it afterwards, so a client that
trusts the file once keeps trusting it across restarts. Generation uses asyncua's own helpers.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asyncua import ua
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import PermissionRuleset, SimpleRoleRuleset, User, UserRole
from asyncua.crypto.security_policies import SECURITY_POLICY_TYPE_MAP, SecurityPolicyFactory, SecurityPolicyNone
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

if TYPE_CHECKING:
    from asyncua.server.internal_server import InternalServer
    from asyncua.server.server import Server

CERTIFICATE_DAYS = 3650  # a simulator's certificate should not expire in the middle of a demo


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    certificate: Path  # DER: what a client puts in its trust list
    private_key: Path  # PEM (PKCS#8, unencrypted)


def _still_good(cert_path: Path, application_uri: str) -> bool:
    cert = x509.load_der_x509_certificate(cert_path.read_bytes())
    if cert.not_valid_after_utc <= datetime.now(UTC):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return application_uri in san.get_values_for_type(x509.UniformResourceIdentifier)


def ensure_certificate(
    directory: Path, *, application_uri: str, common_name: str, server: bool = True
) -> CertificateFiles:
    """The certificate and key in ``directory`` (``cert.der``, ``key.pem``), made if missing.

    The subject alternative names carry the application URI (clients check it), this host's
    name, ``localhost`` and 127.0.0.1. A certificate that expired or names another application
    URI is replaced. Blocking (RSA key generation): call it through ``asyncio.to_thread``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = CertificateFiles(directory / "cert.der", directory / "key.pem")
    if files.certificate.is_file() and files.private_key.is_file() and _still_good(files.certificate, application_uri):
        return files
    key = cert_gen.generate_private_key()
    names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(application_uri),
        x509.DNSName(socket.gethostname()),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    usage = [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = cert_gen.generate_self_signed_app_certificate(
        key, common_name, {"organizationName": "Samverka simulators"}, names, extended=usage, days=CERTIFICATE_DAYS
    )
    files.private_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    files.private_key.chmod(0o600)
    files.certificate.write_bytes(cert.public_bytes(Encoding.DER))
    return files


class PasswordUserManager(UserManager):
    """asyncua user manager: only the listed user names with their passwords get a session.

    Returning ``None`` makes asyncua answer ``BadUserAccessDenied``.
    """

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None or password is None or username not in self._users:
            return None
        if not hmac.compare_digest(self._users[username].encode(), password.encode()):
            return None
        return User(role=UserRole.User, name=username)


class DiscoveryOnly(PermissionRuleset):
    """Refuses every service that asyncua checks permissions for (read, browse, write, call,
    subscriptions...): only discovery and session set-up pass, which asyncua never checks."""

    def check_validity(self, user: User, action_type_id: ua.NodeId, body: Any) -> bool:
        return False


def channel_policies(server: Server, policy_types: list[ua.SecurityPolicyType]) -> list[SecurityPolicyFactory]:
    """The secure-channel policies a server accepts, as asyncua would build them, plus, when
    security None is not offered, a None channel that can only do discovery.

    asyncua's server keeps any client on a None channel that asks for it (clients need one for
    GetEndpoints) and would then serve it a session; a vendor that requires SignAndEncrypt
    must not, so such a session is refused every service (``BadUserAccessDenied``).
    """
    factories = []
    for policy_type in policy_types:
        cls, mode, _level = SECURITY_POLICY_TYPE_MAP[policy_type]
        certificate = None if cls is SecurityPolicyNone else server.iserver.certificate
        key = None if cls is SecurityPolicyNone else server.iserver.private_key
        rules = SimpleRoleRuleset()  # type: ignore[no-untyped-call]  # asyncua leaves it unannotated
        factories.append(SecurityPolicyFactory(cls, mode, certificate, key, permission_ruleset=rules))  # type: ignore[no-untyped-call]  # idem
    if ua.SecurityPolicyType.NoSecurity not in policy_types:
        none_mode = ua.MessageSecurityMode.None_
        factories.append(SecurityPolicyFactory(SecurityPolicyNone, none_mode, permission_ruleset=DiscoveryOnly()))  # type: ignore[no-untyped-call]  # idem
    return factories
