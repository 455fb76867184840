"""The load of ``bench api``, in a process of its own: single-event ``POST /api/v1/activities`` at a
fixed rate for a fixed time, open loop.

Request *n* is due at ``start + n / rate`` whatever the answers before it did, and its latency is
counted from that moment, not from when it was sent: a server that falls behind shows it in its
percentiles instead of slowing the load down (no coordinated omission). Prints one JSON object.

    python api_driver.py URL TOKEN --rate 200 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx

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


async def drive(
    url: str, token: str, rate: float, seconds: float, leads: int, run: str
) -> dict[str, Any]:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60
    ) as client:

        async def one(n: int, due: float) -> None:
            try:
                answer = await client.post("/api/v1/activities", json=_event(n, leads, run))
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                return
            if answer.status_code != 200:
                errors[str(answer.status_code)] += 1
                return
            latencies.append(time.perf_counter() - due)

        start = time.perf_counter() + 0.1
        pending = set()
        for n in range(total):
            due = start + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(one(n, due))
            pending.add(task)
            task.add_done_callback(pending.discard)
        sent_by = time.perf_counter()
        if pending:
            _, late = await asyncio.wait(pending, timeout=DRAIN_SECONDS)
            errors["no answer"] += len(late)
            for task in late:
                task.cancel()
        finished = time.perf_counter()
    latencies.sort()

    def percentile(p: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)

    return {
        "target_rate": rate,
        "seconds": seconds,
        "requests": total,
        "answered": len(latencies),
        "achieved_rate": round(len(latencies) / max(finished - start, 1e-9), 1),
        "send_lag_seconds": round(max(0.0, sent_by - (start + (total - 1) / rate)), 3),
        "p50_ms": percentile(50),
        "p95_ms": percentile(95),
        "p99_ms": percentile(99),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
    }


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
