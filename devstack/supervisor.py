"""Runs the system's processes in the foreground; Ctrl-C (or one of them dying) stops them all."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.processes import inherited_fds

STOP_GRACE_SECONDS = 15


class Supervisor:
    def __init__(self, table: dict[str, list[str]], *, env: dict[str, str], cwd: Path) -> None:
        self.table = table
        self.env = env
        self.cwd = cwd
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def _start(self) -> None:
        width = max(len(name) for name in self.table)
        self.prefix = {name: f"{name:<{width}} | " for name in self.table}
        for name, cmd in self.table.items():
            # Own session: Ctrl-C reaches only us, and we stop the children in order.
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=inherited_fds(self.env),
            )

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        self._start()
        exit_code = self._pump()
        self._stop_all()
        return exit_code

    def _pump(self) -> int:
        selector = selectors.DefaultSelector()
        for name, proc in self.procs.items():
            os.set_blocking(proc.stdout.fileno(), False)
            selector.register(proc.stdout, selectors.EVENT_READ, name)
        buffers = dict.fromkeys(self.procs, b"")
        while not self.stopping:
            for key, _ in selector.select(timeout=0.5):
                name = key.data
                chunk = key.fileobj.read() or b""
                buffers[name] = self._emit(name, buffers[name] + chunk)
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    print(f"{self.prefix[name]}exited with {proc.returncode}; stopping all")
                    return proc.returncode or 1
        return 0

    def _emit(self, name: str, data: bytes) -> bytes:
        *lines, rest = data.split(b"\n")
        for line in lines:
            sys.stdout.write(self.prefix[name] + line.decode(errors="replace") + "\n")
        sys.stdout.flush()
        return rest

    def _stop_all(self) -> None:
        print("[devstack] stopping ...", flush=True)
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{self.prefix[name]}did not stop in time; killing", flush=True)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        print("[devstack] all processes stopped", flush=True)
