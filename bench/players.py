"""Hosted-game players for the bench, in their own process:
`python -m bench.players URL TOKENS_JSON OUT ORIGIN`.

Connects one websocket per token, says hello with it (as the player page does), prints READY,
records (receive time, version, phase) for every `game` message until a line arrives on stdin,
then writes OUT as JSON: per client, the list of records, how many `you` messages it got and
(receive time, version) for each of them.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

from websockets.asyncio.client import connect


async def play(url: str, origin: str, token: str, gate, log: list, you: list, ready) -> None:
    async with gate:  # daphne takes a burst of handshakes, not a thousand at once
        ws = await connect(url, origin=origin, max_size=None, open_timeout=60)
    await ws.send(json.dumps({"type": "hello", "token": token}))
    ready()
    try:
        async for text in ws:
            now = time.time()
            # The type is the first key the server writes: no full parse on the hot path.
            if text.startswith('{"type": "game"'):
                message = json.loads(text)
                log.append((now, message["version"], message["phase"]))
            elif text.startswith('{"type": "you"'):
                you[0] += 1
                you[1].append((now, json.loads(text)["version"]))
    finally:
        await ws.close()


async def main(url: str, tokens: list[str], out: str, origin: str) -> None:
    logs: list[list] = [[] for _ in tokens]
    yous: list[list] = [[0, []] for _ in tokens]
    connected = 0
    all_ready = asyncio.Event()

    def ready() -> None:
        nonlocal connected
        connected += 1
        if connected == len(tokens):
            all_ready.set()

    gate = asyncio.Semaphore(50)
    tasks = [
        asyncio.create_task(play(url, origin, token, gate, logs[i], yous[i], ready))
        for i, token in enumerate(tokens)
    ]
    await asyncio.wait_for(all_ready.wait(), timeout=180)
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    with open(out, "w") as f:
        you_counts, you_logs = [y[0] for y in yous], [y[1] for y in yous]
        json.dump({"clients": logs, "you": you_counts, "you_log": you_logs}, f)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"DONE {usage.ru_utime + usage.ru_stime:.1f}", flush=True)


if __name__ == "__main__":
    url, tokens_file, out, origin = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    with open(tokens_file) as f:
        tokens = json.load(f)
    asyncio.run(main(url, tokens, out, origin))
