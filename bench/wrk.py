"""wrk (Debian's package) as the load generator, with a bounded number of requests per run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Lua: cycle through prepared requests, stop each thread after its share of the budget,
# and print the latency percentiles as JSON at the end.
LUA = r"""
local requests = {}
local budget_per_thread = tonumber(os.getenv("WRK_BUDGET_PER_THREAD") or "0")
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

init = function(args)
  local f = io.open(os.getenv("WRK_REQUESTS_FILE"), "r")
  for line in f:lines() do
    local method, path, body = line:match("^(%u+) (%S+) ?(.*)$")
    local headers = {}
    headers["Authorization"] = os.getenv("WRK_AUTH")
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  f:close()
end

request = function()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

response = function(status, headers, body)
  if budget_per_thread > 0 and counter >= budget_per_thread then wrk.thread:stop() end
end

done = function(summary, latency, requests)
  local out = {
    requests = summary.requests, duration_us = summary.duration,
    errors_status = summary.errors.status, errors_other = summary.errors.connect
      + summary.errors.read + summary.errors.write + summary.errors.timeout,
    p50_us = latency:percentile(50), p99_us = latency:percentile(99), max_us = latency.max,
  }
  local parts = {}
  for k, v in pairs(out) do table.insert(parts, string.format('"%s": %s', k, v)) end
  io.write("WRK_JSON {" .. table.concat(parts, ", ") .. "}\n")
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def __str__(self) -> str:
        return (
            f"{self.rps:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"{self.requests:,} requests, {self.errors} errors"
        )


def run(
    base_url: str,
    lines: list[str],
    *,
    connections: int,
    seconds: int,
    budget: int,
    auth: str = "",
    threads: int = 2,
    warmup: int = 0,
) -> WrkResult:
    """`lines` are "METHOD /path [json body]"; the run stops at `budget` requests or `seconds`.

    `warmup` seconds of the same load run first, unrecorded: every worker process then has its
    connections open and its in-process caches filled, as in steady service.
    """
    if warmup:
        run(base_url, lines, connections=connections, seconds=warmup, budget=budget, auth=auth,
            threads=threads)  # fmt: skip
    data = _wrk(base_url, lines, connections=connections, seconds=seconds, budget=budget,
                auth=auth, threads=threads)  # fmt: skip
    seconds_run = data["duration_us"] / 1e6
    return WrkResult(
        requests=data["requests"],
        seconds=seconds_run,
        rps=data["requests"] / seconds_run,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors_status"] + data["errors_other"],
    )


def _wrk(
    base_url: str,
    lines: list[str],
    *,
    connections: int,
    seconds: int,
    budget: int,
    auth: str,
    threads: int,
) -> dict:
    """One wrk run with the budget script; returns the JSON summary the script prints."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: `make bench` installs it (Debian package wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        script, requests_file = Path(tmp) / "bench.lua", Path(tmp) / "requests.txt"
        script.write_text(LUA)
        requests_file.write_text("\n".join(lines) + "\n")
        env = {
            "WRK_REQUESTS_FILE": str(requests_file),
            "WRK_AUTH": auth,
            "WRK_BUDGET_PER_THREAD": str(max(1, budget // threads)),
            "PATH": "/usr/bin:/bin",
        }
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
        out = subprocess.run(
            [*cmd, "-s", str(script), base_url], capture_output=True, text=True, env=env
        )
    match = re.search(r"WRK_JSON (\{.*\})", out.stdout)
    if not match:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    return json.loads(match.group(1))
