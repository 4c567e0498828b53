"""The real signer binary for tests and benchmarks: build it, give it a home, run it, stop it.

Not a fixture module (that is `conftest.py` beside it), so `tests/bench/bench_signer.py` can use it too.
Everything runs on the binary `cargo build --locked -p signer` produces, found through `cargo metadata`,
which honours `CARGO_TARGET_DIR` (the justfile points it at ~/.cache/tessera/cargo-target).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
from eth_account import Account

ROOT = Path(__file__).resolve().parents[3]
BUILD_TIMEOUT_S = 1800
START_TIMEOUT_S = 30

# A throwaway key (the one in EIP-155's own example). It must still never show up in a log or a response.
HOT_KEY_ID = "hot"
HOT_PRIVATE_KEY = "0x" + "46" * 32
HOT_ADDRESS = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
KEYSTORE_PASSWORD = "correct horse battery staple (test only)"
TOKEN = "tessera-test-token-6b1f0c2e9d8a4f7b"

ETH_TESTER_CHAIN_ID = 131277322940537
ONE_ETHER = 10**18
DENIED_ADDRESS = "0x000000000000000000000000000000000000dEaD"


@dataclass(frozen=True)
class KeySpec:
    id: str
    private_key: str  # 0x-hex

    @property
    def address(self) -> str:
        return str(Account.from_key(self.private_key).address)


TEST_KEYS = (
    KeySpec(HOT_KEY_ID, HOT_PRIVATE_KEY),
    # A tight rolling daily limit, to see `daily_limit_exceeded`.
    KeySpec("daily", "0x" + "47" * 32),
    # No policy table at all: the signer signs nothing for it.
    KeySpec("nopolicy", "0x" + "48" * 32),
)

POLICY_TOML = f"""\
[keys.{HOT_KEY_ID}]
chain_ids = [1, {ETH_TESTER_CHAIN_ID}]
max_value_wei = "{ONE_ETHER}"
max_value_per_day_wei = "{1_000_000 * ONE_ETHER}"
deny_to = ["{DENIED_ADDRESS}"]

[keys.daily]
chain_ids = [{ETH_TESTER_CHAIN_ID}]
max_value_wei = "{ONE_ETHER}"
max_value_per_day_wei = "{ONE_ETHER + ONE_ETHER // 2}"
"""


def cargo_target_dir() -> Path:
    """Where cargo puts build products for this workspace (`CARGO_TARGET_DIR`, config, or `target/`)."""
    result = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cargo metadata failed:\n{result.stderr[-4000:]}")
    return Path(json.loads(result.stdout)["target_directory"])


def build_signer(*, release: bool = False) -> tuple[Path, float]:
    """Builds the signer (a no-op when it is up to date); returns the binary and the seconds it took."""
    command = ["cargo", "build", "--locked", "-p", "signer"] + (["--release"] if release else [])
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-8000:]}")
    binary = cargo_target_dir() / ("release" if release else "debug") / "signer"
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"cargo built the signer but {binary} is not an executable")
    return binary, elapsed


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a signer process: ours without any keystore password, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key != "SIGNER_KEYSTORE_PASSWORD"}
    env["SIGNER_LOG"] = "info"
    env.update(extra)
    return env


def write_secret(path: Path, text: str) -> Path:
    """Writes `text` to a new file readable by its owner only (the signer refuses world-readable ones)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path


@dataclass
class SignerHome:
    """A keystore directory, token file and policy file, all private to the owner, under `root`."""

    root: Path
    outputs: list[str] = field(default_factory=list)  # stdout and stderr of every CLI run, for leak checks

    @property
    def keystore_dir(self) -> Path:
        return self.root / "keystore"

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    @property
    def policy_file(self) -> Path:
        return self.root / "policy.toml"

    @property
    def socket(self) -> Path:
        return self.root / "signer.sock"

    @classmethod
    def create(
        cls,
        binary: Path,
        root: Path,
        *,
        keys: tuple[KeySpec, ...] = TEST_KEYS,
        policy: str = POLICY_TOML,
        token: str = TOKEN,
    ) -> SignerHome:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        home = cls(root)
        write_secret(home.token_file, token + "\n")
        write_secret(home.policy_file, policy)
        for key in keys:
            home.run_cli(binary, "keys", "import", "--id", key.id, stdin=key.private_key + "\n")
        return home

    def run_cli(self, binary: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(binary), *args, "--keystore-dir", str(self.keystore_dir)],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=child_env(SIGNER_KEYSTORE_PASSWORD=KEYSTORE_PASSWORD),
        )
        self.outputs += [result.stdout, result.stderr]
        if result.returncode != 0:
            raise RuntimeError(f"signer {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def serve_command(self, binary: Path, *extra: str) -> list[str]:
        return [
            str(binary),
            "serve",
            "--keystore-dir",
            str(self.keystore_dir),
            "--token-file",
            str(self.token_file),
            "--policy",
            str(self.policy_file),
            *(extra or ("--socket", str(self.socket))),
        ]


class SignerProcess:
    """`signer serve` as a child process, its log (JSON lines on stderr) kept in a file.

    Use as a context manager; `start()` returns once `/healthz` answers, or raises with the log.
    """

    def __init__(
        self,
        binary: Path,
        home: SignerHome,
        *,
        extra_args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        base_url: str | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.home = home
        self.command = home.serve_command(binary, *extra_args)
        self.env = dict(env) if env is not None else child_env(SIGNER_KEYSTORE_PASSWORD=KEYSTORE_PASSWORD)
        self.log_path = home.root / f"signer-{time.monotonic_ns()}.log"
        self._base_url = base_url
        self._ca_file = ca_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> Self:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"signer serve exited with {self._process.returncode} before it was ready:\n{self.log()}"
                )
            if self._healthy():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"signer serve was not ready within {START_TIMEOUT_S} s:\n{self.log()}")

    def _healthy(self) -> bool:
        if self._base_url is None:
            if not self.home.socket.exists():
                return False
            transport = httpx.HTTPTransport(uds=str(self.home.socket))
            base_url = "http://signer"
        else:
            transport = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=self._ca_file))
            base_url = self._base_url
        try:
            with httpx.Client(transport=transport, base_url=base_url, timeout=2) as client:
                response = client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
        except httpx.TransportError:
            return False
        return response.status_code == 200

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not finish within 15 s; returns the exit status."""
        if self._process is None or self._process.poll() is not None:
            return None if self._process is None else self._process.returncode
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
