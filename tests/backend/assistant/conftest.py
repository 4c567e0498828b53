"""Fixtures of the assistant tests. No test here may reach beyond this machine: every socket connection to
an address other than loopback fails, so a stray call (Guardrails telemetry, a hub download) is an error."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    attempts: list[Any] = []
    original = socket.socket.connect
    original_ex = socket.socket.connect_ex

    def allowed(address: Any) -> bool:
        if isinstance(address, (str, bytes)):  # Unix socket
            return True
        host = address[0]
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"

    def connect(self: socket.socket, address: Any) -> Any:
        if not allowed(address):
            attempts.append(address)
            raise OSError(f"test refused a connection to {address!r}: tests stay on this machine")
        return original(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not allowed(address):
            attempts.append(address)
            raise OSError(f"test refused a connection to {address!r}: tests stay on this machine")
        return original_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts
    assert not attempts, f"a test tried to leave the machine: {attempts}"
