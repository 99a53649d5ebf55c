"""Real server processes for tests: `u4ssc-calendar serve` on a free port, stopped afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, as a container runtime sends it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


Env = Mapping[str, str | None]


def start_server(env: Env, log: Path, workers: int | None = None) -> Server:
    """`u4ssc-calendar serve`, or plain uvicorn with `workers` processes. `env` is laid over
    this process's environment; a None value removes that variable."""
    port = free_port()
    address = ["--host", "127.0.0.1", "--port", str(port)]
    command = (
        [sys.executable, "-m", "app.cli.main", "serve", *address]
        if workers is None
        else [sys.executable, "-m", "uvicorn", "app.main:app", *address, "--workers", str(workers)]
    )
    merged = {**os.environ, **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={name: value for name, value in merged.items() if value is not None},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def wait_until_up(server: Server) -> None:
    """Poll /health until it answers: a deadline for start-up, not a claim about speed."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"server exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server did not answer /health:\n{server.output()}")


@contextmanager
def running_servers(
    env: Env, folder: Path, count: int = 1, workers: int | None = None
) -> Iterator[list[Server]]:
    """`count` processes started together (they race to migrate and seed), all up."""
    servers = [start_server(env, folder / f"server-{n}.log", workers) for n in range(count)]
    try:
        for server in servers:
            wait_until_up(server)
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
