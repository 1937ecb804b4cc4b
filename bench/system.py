"""Starts the system as `make run` does (same process table), plus the baseline server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from devstack import services
from devstack.processes import inherited_fds, process_table, run_env, ws_listen

WORK = services.ROOT / "bench" / ".work"


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class System:
    """The web (gunicorn), ws (daphne), worker and beat processes, and the bare baseline."""

    def __init__(self, stack: services.Stack, *, port: int, baseline_port: int) -> None:
        os.environ.update({"PORT": str(port), "LOG_LEVEL": "WARNING"})
        self.env = run_env(stack)
        self.port, self.ws_port, self.baseline_port = port, int(self.env["WS_PORT"]), baseline_port
        self.procs: dict[str, subprocess.Popen] = {}
        WORK.mkdir(parents=True, exist_ok=True)

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=services.ROOT, env=self.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout

    def start(self) -> None:
        self.listener = ws_listen(self.env)
        table = process_table(self.env)
        table["baseline"] = [
            services.venv_bin("gunicorn"), "bench.hello.wsgi", "--workers", "2",
            "--bind", f"127.0.0.1:{self.baseline_port}", "--access-logfile", "/dev/null",
        ]  # fmt: skip
        for name, cmd in table.items():
            log = open(WORK / f"{name}.log", "w")  # noqa: SIM115 - lives as long as the process
            self.procs[name] = subprocess.Popen(
                cmd, cwd=services.ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, pass_fds=inherited_fds(self.env),
            )  # fmt: skip
        wait_http(f"http://127.0.0.1:{self.port}/readyz")
        wait_http(f"http://127.0.0.1:{self.ws_port}/healthz")
        wait_http(f"http://127.0.0.1:{self.baseline_port}/hello")

    def server_processes(self) -> dict[str, list[psutil.Process]]:
        """Each role's processes (master and workers), for memory sampling; a role whose
        process has just exited (the bench is stopping) has none."""
        result = {}
        for name, proc in self.procs.items():
            try:
                parent = psutil.Process(proc.pid)
                result[name] = [parent, *parent.children(recursive=True)]
            except psutil.Error:
                result[name] = []
        return result

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class RssSampler:
    """Peak resident memory per role (sum over its processes), sampled in a background thread."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.peaks: dict[str, float] = {}
        self._stop = False

    def sample(self) -> None:
        for name, procs in self.system.server_processes().items():
            if name == "baseline":
                continue
            total = 0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peaks[name] = max(self.peaks.get(name, 0.0), total / 2**20)

    def run_in_background(self) -> None:
        import threading

        def loop() -> None:
            while not self._stop:
                self.sample()
                time.sleep(0.5)

        threading.Thread(target=loop, daemon=True).start()

    def stop(self) -> dict[str, float]:
        self._stop = True
        return dict(self.peaks)


def machine() -> str:
    cores = os.cpu_count()
    mem = psutil.virtual_memory().total / 2**30
    return f"{cores} cores, {mem:.0f} GiB RAM, Python {sys.version.split()[0]}"


def read_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
