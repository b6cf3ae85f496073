"""Addresses a brand gives us (its cart URL, its checkout webhook) and calls to them.

A brand's URL is input from outside: saved as is, a webhook on 127.0.0.1 or
169.254.169.254 would make the server call its own neighbours (SSRF), and a
``javascript:`` cart URL would become a redirect. So every such URL is checked
when it is saved (:func:`check_brand_url`), and the webhook's host is checked
again when we call it (:func:`post_json`): a name that resolved to a public
address on Monday may resolve to 10.0.0.5 on Tuesday.

The checks need no Flask: the web app builds a :class:`UrlPolicy` from its
config and passes it in.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

from sessions.errors import N_, InvalidInput

MAX_URL_LENGTH = 500
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


class UnsafeDestination(Exception):
    """The webhook's host now resolves to an address we must not call."""


@dataclass(frozen=True)
class UrlPolicy:
    """What a brand URL may be. The defaults are production's."""

    allow_http: bool = False
    # Tests of the happy path run their webhook receiver on 127.0.0.1; production never.
    allow_private: bool = False

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> UrlPolicy:
        env = str(config.get("VITRINE_ENV", "production"))
        relaxed = env in {"development", "testing"}
        return cls(
            allow_http=relaxed,
            allow_private=relaxed and bool(config.get("ALLOW_PRIVATE_WEBHOOK_HOSTS")),
        )

    @property
    def schemes(self) -> tuple[str, ...]:
        return ("https", "http") if self.allow_http else ("https",)


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved, unspecified...

    ``ipaddress``'s ``is_global`` is the IANA special-purpose registry, so this also
    refuses carrier-grade NAT (100.64/10), documentation ranges and IPv4 written
    inside IPv6 (::ffff:127.0.0.1 is checked as 127.0.0.1).
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line


def _split(value: str, field: str, policy: UrlPolicy) -> Destination:
    def refuse(why: str, **params: object) -> InvalidInput:
        return InvalidInput(why, params=params, field=field)

    if len(value) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
        raise refuse(
            N_("Enter a web address of at most %(n)s characters, no spaces."), n=MAX_URL_LENGTH
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise refuse(N_("This is not a valid web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in policy.schemes:
        raise refuse(
            N_("Use an https:// address.")
            if scheme != "http"
            else N_("Use an https:// address (http is only allowed in development).")
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or parts.username is not None or parts.password is not None:
        raise refuse(N_("Enter a full address with a host name, e.g. https://shop.example.com/…"))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Destination(scheme, host, port or (443 if scheme == "https" else 80), path)


def _addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a literal IP resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_addresses(host: str, port: int, policy: UrlPolicy) -> list[str]:
    """Resolve ``host``; raise UnsafeDestination unless every address is public.

    All of them, not just the first: a name with one public and one private
    address would otherwise reach the private one whenever the resolver's order
    changes.
    """
    if not policy.allow_private and (host in _LOCAL_NAMES or host.endswith(".localhost")):
        raise UnsafeDestination(f"{host} is this machine")
    try:
        addresses = _addresses(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"{host} does not resolve ({exc})") from None
    if not addresses:
        raise UnsafeDestination(f"{host} does not resolve")
    if not policy.allow_private:
        private = [a for a in addresses if not is_public_address(a)]
        if private:
            raise UnsafeDestination(f"{host} resolves to a private address ({private[0]})")
    return addresses


def check_brand_url(
    value: str | None, field: str, policy: UrlPolicy, *, must_resolve: bool
) -> str | None:
    """A brand URL as stored (or None when empty), or InvalidInput saying what is wrong.

    ``must_resolve``: the webhook must resolve now, since we will call it. The cart
    URL is only ever opened by the shopper's browser, whose resolver may know names
    ours does not (a shop behind split DNS): a name we cannot resolve is kept, but a
    literal private IP or a name resolving to one is refused all the same.
    """
    value = (value or "").strip()
    if not value:
        return None
    target = _split(value, field, policy)
    try:
        public_addresses(target.host, target.port, policy)
    except UnsafeDestination as exc:
        unresolved = "does not resolve" in str(exc)
        if unresolved and not must_resolve:
            return value
        if unresolved:
            raise InvalidInput(
                N_("We could not find the host %(host)s. Check the address."),
                params={"host": target.host},
                field=field,
            ) from None
        raise InvalidInput(
            N_("Use a public address: private, loopback and link-local hosts are refused."),
            field=field,
        ) from None
    return value


def check_redirect_url(value: str, policy: UrlPolicy) -> bool:
    """Whether a filled-in cart URL may be sent to the browser (scheme and host only)."""
    try:
        _split(value, "checkout_url_template", policy)
    except InvalidInput:
        return False
    return True


def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: UrlPolicy,
    *,
    timeout: float,
    ca_certs: str | None = None,
) -> int:
    """POST ``body`` to ``url`` and return the HTTP status; never follows redirects.

    Raises UnsafeDestination when the host (resolved now) is not public, and
    urllib3's errors (subclasses of urllib3.exceptions.HTTPError) when the shop is
    down or slow.

    Closing the DNS-rebinding gap: we resolve the name once, check those
    addresses, and open the TCP connection to the checked address itself (the
    pool's host is the IP). Letting the HTTP client resolve the name again would
    give an attacker's DNS server a second answer (TTL 0) that we never checked.
    The name still travels where it belongs: in the Host header, and for https
    in the TLS SNI and the certificate check (server_hostname/assert_hostname).
    A redirect is not followed, since its target would escape this check.
    ``ca_certs``: a CA bundle instead of the system's (tests, a shop on a private CA).
    """
    target = _split(url, "checkout_webhook_url", policy)
    address = public_addresses(target.host, target.port, policy)[0]
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=True,
        )
        return int(response.status)
