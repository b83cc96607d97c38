"""The gateway's own application certificate and the per-endpoint trust lists.

Layout of ``pki_dir``::

    own/cert.der, own/key.pem   made on first start (asyncua's generator), renewed when expired
    trusted/                    default trust list for endpoints that name none
    rejected/                   server certificates that were refused, to inspect and move

A server certificate is trusted when its SHA-256 fingerprint equals that of a file in the
endpoint's trust list (files or folders of DER/PEM certificates): pinning, no CA chains.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto import cert_gen
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

log = logging.getLogger(__name__)
APPLICATION_URI = "urn:samverka:gateway"
_CERT_SUFFIXES = (".der", ".pem", ".crt", ".cer")


class UntrustedServer(ConnectionError):
    """The server's certificate is not in the endpoint's trust list."""


class Pki:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.certificate = directory / "own" / "cert.der"
        self.private_key = directory / "own" / "key.pem"

    async def ensure_own_certificate(self) -> tuple[Path, Path]:
        """The gateway's certificate and key, made when missing or no longer valid."""
        for sub in ("own", "trusted", "rejected"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        await cert_gen.setup_self_signed_certificate(
            self.private_key, self.certificate, APPLICATION_URI, socket.gethostname(),
            [ExtendedKeyUsageOID.CLIENT_AUTH], {"organizationName": "Samverka gateway"})
        self.private_key.chmod(0o600)
        return self.certificate, self.private_key

    def check(self, certificate_der: bytes, trust: Iterable[Path]) -> None:
        """Raise UntrustedServer (and keep a copy in rejected/) unless the certificate is pinned."""
        fingerprint = hashlib.sha256(certificate_der).hexdigest()
        if fingerprint in fingerprints(trust):
            return
        rejected = self.directory / "rejected" / f"{fingerprint[:16]}.der"
        rejected.parent.mkdir(parents=True, exist_ok=True)
        rejected.write_bytes(certificate_der)
        raise UntrustedServer(f"the server certificate (sha256 {fingerprint[:16]}...) is not trusted; "
                              f"a copy is in {rejected}: move it to the endpoint's trust list to accept it")

    def validator(self, trust: tuple[Path, ...]) -> Callable[[x509.Certificate, ua.ApplicationDescription],
                                                             Awaitable[None]]:
        """asyncua's certificate_validator hook: the same check at every (re)created session."""

        async def validate(certificate: x509.Certificate, _app: ua.ApplicationDescription) -> None:
            try:
                await asyncio.to_thread(self.check, certificate.public_bytes(Encoding.DER), trust)
            except UntrustedServer as exc:
                log.error("%s", exc)
                raise ServiceError(StatusCodes.BadCertificateUntrusted) from exc

        return validate


def fingerprints(trust: Iterable[Path]) -> set[str]:
    found: set[str] = set()
    for location in trust:
        files = sorted(location.iterdir()) if location.is_dir() else [location]
        for file in files:
            if file.suffix.lower() not in _CERT_SUFFIXES or not file.is_file():
                continue
            der = _der(file.read_bytes())
            if der is None:
                log.warning("%s is not a certificate; ignored", file)
            else:
                found.add(hashlib.sha256(der).hexdigest())
    return found


def _der(data: bytes) -> bytes | None:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
        return x509.load_der_x509_certificate(data).public_bytes(Encoding.DER)
    except ValueError:
        return None
