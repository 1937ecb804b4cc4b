"""Websocket watchers for row 4, in their own process: `python -m bench.live URL N OUT ORIGIN`.

Connects N clients, prints READY, records (receive time, message) for every leaderboard
message until a line arrives on stdin, then writes OUT as JSON: the distinct messages (each
reduced to nickname -> answered) and, per client, the (time, message index) pairs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import time

from websockets.asyncio.client import connect


async def watch(url: str, origin: str, gate, texts: dict[str, int], log: list, ready) -> None:
    async with gate:  # daphne takes a burst of handshakes, not a thousand at once
        ws = await connect(url, origin=origin, max_size=None, open_timeout=60)
    ready()
    try:
        async for text in ws:
            log.append((time.time(), texts.setdefault(text, len(texts))))
    finally:
        await ws.close()


async def main(url: str, clients: int, out: str, origin: str) -> None:
    texts: dict[str, int] = {}
    logs: list[list] = [[] for _ in range(clients)]
    connected = 0
    all_ready = asyncio.Event()

    def ready() -> None:
        nonlocal connected
        connected += 1
        if connected == clients:
            all_ready.set()

    gate = asyncio.Semaphore(50)
    tasks = [
        asyncio.create_task(watch(url, origin, gate, texts, logs[i], ready)) for i in range(clients)
    ]
    await asyncio.wait_for(all_ready.wait(), timeout=120)
    # The 1,000 connections' objects live until the end: keep them out of this process's full
    # GC passes (40-60 ms each, measured), which would otherwise show up as delivery latency.
    gc.freeze()
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    boards = []
    for text in sorted(texts, key=texts.get):
        message = json.loads(text)
        entries = message.get("entries", [])
        boards.append(
            {
                "type": message.get("type"),
                "answered": {e["nickname"]: e["answered"] for e in entries},
            }
        )
    with open(out, "w") as f:
        json.dump({"boards": boards, "clients": logs}, f)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"DONE {usage.ru_utime + usage.ru_stime:.1f}", flush=True)


if __name__ == "__main__":
    url, clients, out, origin = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    asyncio.run(main(url, clients, out, origin))
