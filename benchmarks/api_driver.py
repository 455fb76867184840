"""The load of ``bench api``, in a process of its own: single-event ``POST /api/v1/activities`` at a
fixed rate for a fixed time, open loop, over a fixed set of kept-alive connections.

Request *n* is due at ``start + n / rate`` whatever the answers before it did, and its latency is
counted from that moment, not from when it was sent: a server that falls behind shows it in its
percentiles instead of slowing the load down (no coordinated omission). Prints one JSON object.

    python api_driver.py URL TOKEN --rate 200 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

TYPES = ("page_view", "email_open", "email_click", "form_submit", "content_download")
#: How long the driver waits for the last answers once every request is sent.
DRAIN_SECONDS = 60.0


def _event(n: int, leads: int, run: str) -> dict[str, Any]:
    type_ = TYPES[n % len(TYPES)]
    props = {"form": "inquiry"} if type_ == "form_submit" else {"url": f"/page/{n % 50}"}
    return {
        "activities": [
            {
                "email": f"api{n % leads}@bench{n % leads % 97}.co.jp",
                "type": type_,
                "occurred_at": datetime.now(UTC).isoformat(),
                "properties": props,
                "source": "bench",
                "external_id": f"{run}-{n}",
            }
        ]
    }


#: The length of the windows the run's p99 is also given for.
WINDOW_SECONDS = 10.0
#: Keep-alive connections the driver holds open; requests beyond them wait for one (and their
#: wait counts in their latency).
CONNECTIONS = 64


async def _post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the answer's status."""
    writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def drive(
    url: str, token: str, rate: float, seconds: float, leads: int, run: str
) -> dict[str, Any]:
    total = int(rate * seconds)
    latencies: list[float] = []
    #: The latencies by the window of the run their request was due in.
    windows: defaultdict[int, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    address = urlsplit(url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    head = (
        f"POST /api/v1/activities HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: "
    ).encode()
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (item := await queue.get()) is not None:
                n, due = item
                body = json.dumps(_event(n, leads, run)).encode()
                try:
                    status = await _post(reader, writer, head, body)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    errors[type(exc).__name__] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if status == 200:
                    latencies.append(time.perf_counter() - due)
                    windows[int((due - start) // WINDOW_SECONDS)].append(latencies[-1])
                else:
                    errors[str(status)] += 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    start = time.perf_counter() + 0.2
    for n in range(total):
        due = start + n / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        queue.put_nowait((n, due))
    sent_by = time.perf_counter()
    for _ in workers:
        queue.put_nowait(None)
    _, late = await asyncio.wait(workers, timeout=DRAIN_SECONDS)
    for task in late:
        task.cancel()
    finished = time.perf_counter()
    answered = len(latencies)
    missing = total - answered - sum(errors.values())
    if missing:
        errors["no answer"] += missing
    latencies.sort()

    def percentile(p: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)

    return {
        "target_rate": rate,
        "seconds": seconds,
        "requests": total,
        "answered": answered,
        "achieved_rate": round(answered / max(finished - start, 1e-9), 1),
        "send_lag_seconds": round(max(0.0, sent_by - (start + (total - 1) / rate)), 3),
        "p50_ms": percentile(50),
        "p95_ms": percentile(95),
        "p99_ms": percentile(99),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        # Where in the run the slow answers were: the p99 of each window of WINDOW_SECONDS.
        "p99_ms_by_window": [
            round(1000 * _p99(windows[n]), 1) if windows[n] else None
            for n in range(int(math.ceil(seconds / WINDOW_SECONDS)))
        ],
        "window_seconds": WINDOW_SECONDS,
    }


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--run", default="bench-api", help="The events' external ids' prefix.")
    args = parser.parse_args()
    result = asyncio.run(drive(args.url, args.token, args.rate, args.seconds, args.leads, args.run))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
