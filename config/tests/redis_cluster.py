"""A real Redis Cluster on loopback for the slow tests: 3 masters, each with a replica.

Debian's redis-server in cluster mode (`--cluster-enabled yes`), each node with its own port,
cluster bus port and directory in a temp dir, append-only persistence as in production; formed
with `redis-cli --cluster create ... --cluster-replicas 1`. The tests kill nodes at will; every
node is stopped and its files deleted when the context manager exits (also on failure), and
`atexit` (servers.py) catches an interrupted run. The machine's shared Redis is never touched.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from config.tests import servers

NODE_TIMEOUT_MS = 1000  # a dead master is failed over after about this (plus an election)


def binaries() -> tuple[str, str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not server or not cli:
        pytest.skip("Debian's redis-server and redis-cli are needed (apt-get install redis-server)")
    return server, cli


class ClusterNode:
    def __init__(self, binary: str, data_dir: Path) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.port = servers.free_port()
        self.bus_port = servers.free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def start(self) -> None:
        cmd = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--cluster-enabled", "yes",
            "--cluster-port", str(self.bus_port),
            "--cluster-config-file", str(self.data_dir / "nodes.conf"),
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--dir", str(self.data_dir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--repl-diskless-sync-delay", "0",  # replicas in sync at once, not after 5 s
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.wait_until(self._pings, timeout=15, what=f"cluster node {self.address}")

    def _pings(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"redis-server exited: {self.log_tail()}")
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crashed master, as an OOM kill or a lost host would leave it."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.proc = None
        servers.wait_until(lambda: not servers.listening(self.port), timeout=10, what="port")

    def role(self) -> str:
        return str(self.client().info("replication")["role"])

    def cluster_ok(self) -> bool:
        """The cluster is up as this node sees it, and a replica is in sync with its master (a
        replica that never synced cannot be promoted)."""
        try:
            if self.client().cluster("info")["cluster_state"] != "ok":
                return False
            replication = self.client().info("replication")
        except redis.RedisError:
            return False
        return replication["role"] == "master" or replication["master_link_status"] == "up"

    def log_tail(self) -> str:
        path = self.data_dir / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


class RedisClusterServers:
    def __init__(self, base_dir: Path, *, masters: int = 3) -> None:
        self.server, self.cli = binaries()
        self.nodes = []
        for i in range(masters * 2):
            (base_dir / f"node{i}").mkdir()
            self.nodes.append(ClusterNode(self.server, base_dir / f"node{i}"))

    def url(self) -> str:
        """DATA_REDIS_URL for this cluster: every node as a startup node."""
        return "redis+cluster://" + ",".join(node.address for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        create = [self.cli, "--cluster", "create", *(n.address for n in self.nodes)]
        result = subprocess.run(
            [*create, "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"redis-cli --cluster create failed:\n{result.stdout}")
        self.wait_healthy()

    def alive(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.alive()]

    def masters(self) -> list[ClusterNode]:
        return [node for node in self.alive() if node.role() == "master"]

    def wait_healthy(self, *, timeout: float = 60) -> None:
        """Every live node reports cluster_state:ok, its replicas are in sync, and 3 masters
        serve the slots."""

        def healthy() -> bool:
            return all(node.cluster_ok() for node in self.alive()) and len(self.masters()) == 3

        servers.wait_until(healthy, timeout=timeout, what="the cluster to be healthy", every=0.1)

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.kill()


@contextlib.contextmanager
def redis_cluster() -> Iterator[RedisClusterServers]:
    with servers.temp_dir("redis-cluster") as base_dir:
        cluster = RedisClusterServers(base_dir)
        servers._alive.add(cluster)  # type: ignore[arg-type]  # stopped at exit if interrupted
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()
            servers._alive.discard(cluster)  # type: ignore[arg-type]
