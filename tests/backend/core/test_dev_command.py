"""`infra/dev.sh` (what `./tessera dev` runs after installing) brings up PostgreSQL + TimescaleDB, Redis and
the API, and Ctrl-C stops everything it started. It runs with its own state folder and ports so it does not
touch the servers the rest of the suite uses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from tests_support import ROOT, free_port


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_dev_brings_everything_up_and_ctrl_c_stops_what_it_started() -> None:
    state = Path(tempfile.mkdtemp(prefix="tessera-dev-"))
    state.chmod(0o755)
    pg_port, redis_port, api_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "TESSERA_STATE_DIR": str(state),
        "TESSERA_PG_PORT": str(pg_port),
        "TESSERA_REDIS_PORT": str(redis_port),
        "TESSERA_PORT": str(api_port),
    }
    log = (state / "dev.log").open("w")
    process = subprocess.Popen(
        ["bash", str(ROOT / "infra" / "dev.sh")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline:
            assert process.poll() is None, (state / "dev.log").read_text()
            try:
                ready = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ready is not None
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}
        assert _listening(pg_port)
        assert _listening(redis_port)
        # The dev signer holds the hot wallet's key, so approved withdrawals get signed.
        signer = state / "signer"
        token = (signer / "token").read_text().strip()
        transport = httpx.HTTPTransport(uds=str(signer / "signer.sock"))
        with httpx.Client(transport=transport, base_url="http://signer") as client:
            keys = client.get("/v1/keys", headers={"Authorization": f"Bearer {token}"})
        assert keys.status_code == 200, keys.text
        assert [key["id"] for key in keys.json()] == ["hot"]

        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        assert not _listening(api_port)
        assert not _listening(pg_port)
        assert not _listening(redis_port)
        assert not (signer / "signer.sock").exists()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        subprocess.run(
            ["bash", str(ROOT / "infra" / "local.sh"), "stop"], env=env, capture_output=True, check=False
        )
        subprocess.run(["rm", "-rf", str(state)], check=False)
