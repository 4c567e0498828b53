"""Fixtures of the wallets tests: the real signer binary, built once per session, serving on a Unix socket.

Nothing is skipped when cargo is missing: a test that cannot build the signer fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from signer_support import HOT_ADDRESS, ONE_ETHER, SignerHome, SignerProcess, build_signer

from server_fastapi.wallets.signer_client import SignerClient

_builds: list[str] = []


@pytest.fixture(scope="session")
def signer_binary() -> Path:
    """`cargo build --locked -p signer`, once; a no-op when the binary is up to date."""
    binary, seconds = build_signer()
    _builds.append(f"signer: cargo build --locked -p signer took {seconds:.1f} s -> {binary}")
    return binary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _builds:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def signer_home(signer_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> SignerHome:
    """Keystores of the test keys (imported with `signer keys import`), a 0600 token file and the policy."""
    return SignerHome.create(signer_binary, tmp_path_factory.mktemp("signer"))


@pytest.fixture(scope="session")
def signer_process(signer_binary: Path, signer_home: SignerHome) -> Iterator[SignerProcess]:
    """`signer serve` on `signer_home.socket` for the whole session (its rolling daily totals persist)."""
    with SignerProcess(signer_binary, signer_home) as process:
        yield process


@pytest.fixture
async def signer(signer_process: SignerProcess) -> AsyncIterator[SignerClient]:
    home = signer_process.home
    async with SignerClient(f"unix://{home.socket}", home.token_file) as client:
        yield client


@pytest.fixture
def evm() -> EthereumTester:
    """A fresh in-memory chain (py-evm) on which the hot wallet holds 100 ether."""
    tester = EthereumTester(PyEVMBackend())
    funder = tester.get_accounts()[0]
    tester.send_transaction(
        {"from": funder, "to": HOT_ADDRESS, "value": 100 * ONE_ETHER, "gas": 21_000, "gas_price": 10**10}
    )
    return tester
