"""Where Parley may connect on a user's behalf (an MCP server a request or an assistant names):
public addresses only. A URL must be https; its host is resolved when each connection opens, and
every address it resolves to must be global (not loopback, private, link-local, the cloud's
metadata service, unique-local, multicast or reserved), so a name that rebinds to a private
address between a check and the connection is refused too: the connection goes to the address
that was checked. `allow_hosts` (MCP_ALLOW_HOSTS: `host` or `host:port`) exempts named hosts,
over http as well, for `make dev` and tests, whose servers listen on 127.0.0.1. The HTTP side
(connections opened only to checked addresses) is parley.remote_tools.transport."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from parley.errors import InvalidRequest


class EgressRefused(InvalidRequest):
    """A server Parley was asked to call is not one it may reach."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="server_not_allowed")


@dataclass(frozen=True)
class EgressPolicy:
    allow_hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, setting: str | None) -> EgressPolicy:
        names = (part.strip().lower() for part in (setting or "").split(","))
        return cls(frozenset(name for name in names if name))

    def allowed(self, host: str, port: int) -> bool:
        host = host.lower().strip("[]")
        return host in self.allow_hosts or f"{host}:{port}" in self.allow_hosts

    def check_url(self, url: str, field: str = "server_url") -> None:
        """The URL's form: https (http only for an allowed host), a host, no credentials in it."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # a bracketed host that is no IPv6 address, a port out of range
            raise EgressRefused(f"{field} is not a URL Parley can read: '{url[:200]}'.") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise EgressRefused(f"{field} must be an https URL; got '{url[:200]}'.")
        if parts.username or parts.password:
            raise EgressRefused(f"{field} must not carry credentials; send them in headers or authorization.")
        if parts.scheme == "http" and not self.allowed(parts.hostname, port):
            raise EgressRefused(f"{field} must be https; http is for hosts in MCP_ALLOW_HOSTS only.")
        literal = _literal(parts.hostname)
        if literal is not None and not self.allowed(parts.hostname, port) and not _public(literal):
            raise EgressRefused(f"{field} names {literal}, a {_kind(literal)} address Parley never calls.")

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses a connection to host:port may use: all it resolves to, each public
        (EgressRefused naming the first that is not), unless the host is allowed."""
        try:
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as failure:
            raise EgressRefused(f"The server's host '{host}' does not resolve.") from failure
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if self.allowed(host, port):
            return addresses
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not _public(ip):
                raise EgressRefused(
                    f"The server's host '{host}' resolves to {ip}, a {_kind(ip)} address Parley never calls."
                )
        return addresses


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _public(ip.ipv4_mapped)
    return ip.is_global and not ip.is_multicast


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _kind(ip.ipv4_mapped)
    if ip.is_loopback:
        return "loopback"
    if str(ip) in ("169.254.169.254", "fd00:ec2::254"):
        return "metadata-service"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    return "non-public"
