"""Where a webhook may go: no server-side request forgery.

    URL ──check_url (https; http only to an allowed net; a host; no user:password@)──▶ Target
    Target.host ──resolve once (the injectable resolver)──▶ addresses
        ──every one public (is_global, not multicast; IPv6 forms of IPv4 judged as that IPv4)
          or inside STATUSGEN_WEBHOOK_ALLOW_NETS, else Refused──▶
    PinnedConnection: TCP to exactly those addresses (no second lookup: no DNS rebinding),
        TLS with SNI and certificate checks for the URL's host name, Host: that name

A subscriber chooses the URL, so without these rules the notifier could be made to
POST into our own network (a metadata service, an admin port on localhost). A name is
refused when ANY of its addresses is not public: an attacker's DNS answer may hold
one good address and one inside. `STATUSGEN_WEBHOOK_ALLOW_NETS` lists the ranges that
may be reached anyway (tests, an internal service desk); only those may use plain http.
URLs carry secrets (Slack's path, Teams' `sig=`, Google Chat's `key`/`token`), so they
are printed only as `masked_url` shows them.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from statusgen.errors import SetupError

ALLOW_NETS = "STATUSGEN_WEBHOOK_ALLOW_NETS"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) → the host's addresses as text; `system_resolver` asks the system (DNS)."""

DEFAULT_PORTS = {"https": 443, "http": 80}
SHARED = ipaddress.IPv4Network("100.64.0.0/10")
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
SAFE_PATH_WORDS = frozenset({"api", "hooks", "services", "spaces", "v1", "v2", "webhook", "webhooks", "workflows"})
"""Path segments that name a kind of endpoint, not a secret: `masked_url` keeps them."""


class Refused(Exception):
    """The URL, or an address its host resolves to, is not one we may reach. Nothing was
    connected; trying again will not help (permanent)."""


class Unresolved(Exception):
    """The host name could not be resolved now (transient: DNS may answer next time)."""


# ── the policy ────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class NetworkPolicy:
    """The ranges webhook delivery may reach although they are not public."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NetworkPolicy:
        """The policy of `STATUSGEN_WEBHOOK_ALLOW_NETS`; a SetupError naming it when an
        entry is not a CIDR range."""
        nets, problems = parse_nets(env.get(ALLOW_NETS, ""))
        if problems:
            raise SetupError(problems)
        return cls(nets)

    def allows(self, address: Address) -> bool:
        """Whether `address` is inside an allowed range (an IPv4-mapped IPv6 address counts
        as its IPv4 address: it is the same host)."""
        plain = _unmapped(address)
        return any(plain in net for net in self.allowed)


def parse_nets(text: str) -> tuple[tuple[Network, ...], list[str]]:
    """The CIDR ranges in a comma- or space-separated list, and a problem per bad entry."""
    nets: list[Network] = []
    problems: list[str] = []
    for entry in re.split(r"[\s,]+", text.strip()):
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            problems.append(f"{ALLOW_NETS}: expected CIDR ranges such as 127.0.0.0/8 or fd00::/8, separated by "
                            f"commas or spaces; found {entry!r}")
    return tuple(nets), problems


def allow_nets_problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with `STATUSGEN_WEBHOOK_ALLOW_NETS` (for preflight and doctor)."""
    return parse_nets(env.get(ALLOW_NETS, ""))[1]


# ── the URL ───────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Target:
    """A URL that passed `check_url`, in the parts a request needs."""

    scheme: str
    host: str
    """Lower case, without brackets for an IPv6 literal."""
    port: int
    target: str
    """The request target: path and query (never the fragment)."""

    @property
    def endpoint(self) -> str:
        """The URL without its query: what per-URL politeness counts as one receiver
        (Google Chat's `threadKey` varies per incident; the space stays the same)."""
        return f"{self.scheme}://{self.host}:{self.port}{self.target.partition('?')[0]}"


def check_url(url: str, policy: NetworkPolicy) -> str | None:
    """What makes `url` unusable as a webhook, or None. Looks at the URL only: the
    addresses of a host name are checked when connecting (`checked_addresses`)."""
    try:
        parse_target(url, policy)
    except Refused as problem:
        return str(problem)
    return None


def parse_target(url: str, policy: NetworkPolicy) -> Target:
    """`url` as a Target; Refused says why not. Messages never repeat the URL."""
    if not url.isascii():
        raise Refused("the URL holds characters outside ASCII: write the host as xn--… (IDNA) and "
                      "percent-encode the path")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise Refused("the URL holds spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise Refused("the URL's host is not a valid IPv6 address in brackets") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused(f"expected an https:// URL; found {scheme + ':' if scheme else 'no scheme'}")
    if "@" in parts.netloc:
        raise Refused("the URL carries a user name or password before the host: not allowed (authenticate with "
                      "the signing secret, or a secret in the path)")
    host = parts.hostname or ""
    if not host:
        raise Refused("the URL has no host name")
    try:
        port = DEFAULT_PORTS[scheme] if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise Refused("the URL's port is not a number from 1 to 65535")
    literal = _literal(host)
    if literal is not None and (problem := address_problem(literal, policy, scheme, host)):
        raise Refused(problem)
    if scheme == "http" and literal is None and not policy.allowed:
        raise Refused(_plain_http())
    return Target(scheme, host, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def _literal(host: str) -> Address | None:
    """The address a host written as one stands for; Refused for a broken IPv6 literal."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        if ":" in host:
            raise Refused("the URL's host is not a valid IPv6 address") from None
        return None


def _plain_http() -> str:
    return f"plain http:// is allowed only to the ranges in {ALLOW_NETS}; use https://"


# ── the addresses ─────────────────────────────────────────────────────────────────────

def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (getaddrinfo), in its order."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Unresolved(f"cannot resolve {host}: {error}") from None
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def checked_addresses(target: Target, policy: NetworkPolicy, resolver: Resolver) -> list[Address]:
    """The addresses to connect to, each one allowed; Refused if any one is not (a name is
    refused as a whole), Unresolved if there are none."""
    literal = _literal(target.host)
    if literal is not None:
        found: list[Address] = [literal]
    else:
        try:
            answers = resolver(target.host, target.port)
        except Unresolved:
            raise
        except OSError as error:
            raise Unresolved(f"cannot resolve {target.host}: {error}") from None
        found = []
        for answer in answers:
            try:
                found.append(ipaddress.ip_address(answer))
            except ValueError:
                raise Refused(f"{target.host} resolves to {answer!r}, which is not an IP address") from None
        if not found:
            raise Unresolved(f"cannot resolve {target.host}: no addresses")
    for address in found:
        if (problem := address_problem(address, policy, target.scheme, target.host)) is not None:
            raise Refused(problem)
    return found


def address_problem(address: Address, policy: NetworkPolicy, scheme: str, host: str) -> str | None:
    """Why `address` may not be reached over `scheme`, or None."""
    if policy.allows(address):
        return None
    kind = non_public(address)
    if kind is None:
        return _plain_http() if scheme == "http" else None
    where = "the URL points at" if _literal(host) == address else f"{host} resolves to"
    return (f"{where} {address}, {kind}: webhooks reach only public addresses "
            f"(or the ranges in {ALLOW_NETS})")


def non_public(address: Address) -> str | None:
    """What kind of non-public address this is (`a private address`, ...), or None when it
    is public. IPv6 forms that carry an IPv4 address (mapped, compatible, 6to4, NAT64)
    are judged by that IPv4 address: they lead to it."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        kind = non_public(inner)
        return None if kind is None else f"{kind} (as {inner})"
    checks = (("is_unspecified", "an unspecified address"), ("is_loopback", "a loopback address"),
              ("is_link_local", "a link-local address"), ("is_multicast", "a multicast address"),
              ("is_private", "a private address"), ("is_reserved", "a reserved address"))
    for attribute, kind in checks:
        if getattr(address, attribute):
            return kind
    if address in SHARED:
        return "a shared (carrier-grade NAT) address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:
        return "not a public address"
    return None


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address) or address.is_loopback or address.is_unspecified:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in (*NAT64, IPV4_COMPATIBLE)):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# ── the connection ────────────────────────────────────────────────────────────────────

class PinnedConnection(http.client.HTTPConnection):
    """HTTP or HTTPS to addresses checked beforehand, tried in order: the host name is
    never looked up again (no DNS rebinding between the check and the connection), while
    the Host header, TLS's server name and the certificate check use the URL's name."""

    def __init__(self, target: Target, addresses: Sequence[Address], *, connect_timeout: float, timeout: float,
                 tls: ssl.SSLContext | None) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = DEFAULT_PORTS[target.scheme]  # the Host header leaves out a default port
        self.scheme = target.scheme
        self.addresses = tuple(addresses)
        self.connect_timeout = connect_timeout
        self.tls = tls
        self.address: Address | None = None
        """The address connected to."""

    def connect(self) -> None:
        raw = self._open()
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.scheme == "https":
                context = self.tls if self.tls is not None else ssl.create_default_context()
                raw = context.wrap_socket(raw, server_hostname=self.host)
            raw.settimeout(self.timeout)
        except BaseException:
            raw.close()
            raise
        self.sock = raw

    def _open(self) -> socket.socket:
        error: OSError = ConnectionError("no address to connect to")
        for address in self.addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.connect_timeout)
                sock.connect((str(address), self.port))
            except OSError as failure:
                sock.close()
                error = failure
                continue
            self.address = address
            return sock
        raise error


# ── what may be printed ───────────────────────────────────────────────────────────────

def masked_url(url: str) -> str:
    """A URL as logs may show it: the host (and a port that is not the default), the path's
    well-known words, then the first character of the next segment and `…/***`; never the
    query. `https://hooks.slack.com/services/T0/B0/XyZ` → `hooks.slack.com/services/T…/***`."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return "(a malformed URL)"
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        shown += f":{port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    for segment in segments:
        if segment.lower() not in SAFE_PATH_WORDS:
            return f"{shown}/{segment[0]}…/***"
        shown += f"/{segment}"
    return shown + ("/***" if parts.query else "")
