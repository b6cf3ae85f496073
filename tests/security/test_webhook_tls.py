"""The webhook connects to the address it checked, yet still checks the shop's certificate.

Connecting to an IP (to close the DNS-rebinding gap) is where a client often loses
the host name it should verify the certificate against. A real TLS server on
127.0.0.1 with a certificate for ``localhost`` (signed by a CA made here) proves
both: the right name passes, a certificate for another name is refused.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sessions.outbound import UrlPolicy, post_json

TESTS = UrlPolicy(allow_http=False, allow_private=True)  # https only; loopback for the test
TlsShop = tuple[int, str, list[bytes]]  # port, CA bundle path, bodies received


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(subject: str, issuer: str, key: Any, signer: Any, *, ca: bool, sans: list[str]) -> Any:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def tls_shop(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[int, str, list[bytes]]]:
    """(port, CA bundle path, bodies received) of an HTTPS server for ``request.param``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Test CA", "Test CA", ca_key, ca_key, ca=True, sans=[])
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(request.param, "Test CA", leaf_key, ca_key, ca=False, sans=[request.param])
    (tmp_path / "ca.pem").write_bytes(_pem(ca))
    (tmp_path / "leaf.pem").write_bytes(_pem(leaf))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, str(tmp_path / "ca.pem"), received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("tls_shop", ["localhost"], indirect=True)
def test_the_certificate_is_checked_against_the_host_name(
    tls_shop: TlsShop,
) -> None:
    port, ca, received = tls_shop
    status = post_json(f"https://localhost:{port}/hook", b"{}", {}, TESTS, timeout=5, ca_certs=ca)
    assert status == 204 and received == [b"{}"]


@pytest.mark.parametrize("tls_shop", ["shop.example"], indirect=True)
def test_a_certificate_for_another_name_is_refused(
    tls_shop: TlsShop,
) -> None:
    port, ca, received = tls_shop
    with pytest.raises(urllib3.exceptions.HTTPError):
        post_json(f"https://localhost:{port}/hook", b"{}", {}, TESTS, timeout=5, ca_certs=ca)
    assert received == []
