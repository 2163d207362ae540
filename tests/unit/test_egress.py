"""Where Parley may connect on a user's behalf: public addresses over https, checked when each
connection opens (after DNS), unless MCP_ALLOW_HOSTS names the host."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from parley.egress import EgressPolicy, EgressRefused

STRICT = EgressPolicy.of("")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://169.254.169.254/latest/meta-data/", "metadata-service"),
        ("https://10.0.0.1/mcp", "private"),
        ("https://192.168.1.20/mcp", "private"),
        ("https://127.0.0.1:8443/mcp", "loopback"),
        ("https://[::1]/mcp", "loopback"),
        ("https://[fd00:ec2::254]/mcp", "metadata-service"),
        ("https://[fc00::5]/mcp", "private"),
        ("https://[::ffff:10.1.2.3]/mcp", "private"),
        ("https://100.64.0.9/mcp", "non-public"),
    ],
)
def test_an_address_that_is_not_public_is_refused_by_name(url: str, named: str) -> None:
    with pytest.raises(EgressRefused) as refused:
        STRICT.check_url(url)

    assert refused.value.code == "server_not_allowed" and named in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://mcp.example.com/mcp",
        "ftp://mcp.example.com/",
        "https:///mcp",
        "https://user:pw@mcp.example.com/",
    ],
)
def test_only_https_urls_without_credentials_are_taken(url: str) -> None:
    with pytest.raises(EgressRefused):
        STRICT.check_url(url)


def test_a_public_https_url_passes_the_form_check() -> None:
    STRICT.check_url("https://mcp.example.com/mcp")
    STRICT.check_url("https://8.8.8.8/mcp")


def resolving(monkeypatch: pytest.MonkeyPatch, addresses: list[str]) -> None:
    async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(anyio, "getaddrinfo", getaddrinfo)


def test_a_name_that_resolves_to_a_private_address_is_refused_when_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving(monkeypatch, ["93.184.215.14", "127.0.0.1"])  # one public, one loopback: refused

    with pytest.raises(EgressRefused) as refused:
        anyio.run(STRICT.addresses, "rebinding.example.com", 443)

    assert "127.0.0.1" in str(refused.value) and "loopback" in str(refused.value)


def test_a_name_that_resolves_to_public_addresses_connects_to_those(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, ["93.184.215.14"])

    assert anyio.run(STRICT.addresses, "mcp.example.com", 443) == ["93.184.215.14"]


def test_an_allowed_host_may_be_local_and_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = EgressPolicy.of(" 127.0.0.1:8931 , tools.internal ")
    resolving(monkeypatch, ["127.0.0.1"])

    policy.check_url("http://127.0.0.1:8931/mcp")
    assert anyio.run(policy.addresses, "127.0.0.1", 8931) == ["127.0.0.1"]
    assert anyio.run(policy.addresses, "tools.internal", 443) == ["127.0.0.1"]
    with pytest.raises(EgressRefused):  # the same host on another port is not named
        policy.check_url("http://127.0.0.1:8932/mcp")
    with pytest.raises(EgressRefused):
        anyio.run(policy.addresses, "127.0.0.1", 8932)
