"""``leadops bench``: runs the benchmarks in the checkout's ``benchmarks/`` folder.

Each benchmark measures leadops and, in the same run and database, the raw speed of the same work
done the plainest way (e.g. a bare ``executemany``), and reports both and their ratio. Results are
written as JSON to ``benchmarks/results/NAME-BACKEND.json``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCHMARKS = (
    "ingest",
    "import-leads",
    "rescore",
    "routing",
    "sweep",
    "reports",
    "pages",
    "preview",
    "predict",
    "api",
)


def benchmarks_dir() -> Path:
    configured = os.environ.get("LEADOPS_BENCHMARKS_DIR")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / "benchmarks"
    if not (folder / "common.py").exists():
        raise ValueError(
            f"no benchmarks at {folder}: run `leadops bench` from a source checkout of leadops"
        )
    return folder


def load(name: str) -> ModuleType:
    folder = benchmarks_dir()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    path = folder / f"{name.replace('-', '_')}.py"
    if not path.exists():
        raise ValueError(f"unknown benchmark {name!r}; benchmarks are {', '.join(BENCHMARKS)}")
    module_name = f"leadops_benchmarks_{name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_benchmarks(
    name: str,
    *,
    events: int,
    database_url: str | None,
    leads: int | None = None,
    rows: int | None = None,
    rate: float | None = None,
    seconds: float | None = None,
) -> list[dict[str, Any]]:
    names = BENCHMARKS if name == "all" else (name,)
    if name != "all" and name not in BENCHMARKS:
        raise ValueError(
            f"unknown benchmark {name!r}; benchmarks are {', '.join(BENCHMARKS)} or all"
        )
    results = []
    for each in names:
        module = load(each)
        runner: Callable[..., dict[str, Any]] = module.run
        options: dict[str, Any] = {}
        if leads is not None and each not in ("ingest", "import-leads", "api"):
            options["leads"] = leads
        if rows is not None and each == "import-leads":
            options["rows"] = rows
        if each == "api":
            options.update(
                {k: v for k, v in (("rate", rate), ("seconds", seconds)) if v is not None}
            )
        result = runner(database_url=database_url, events=events, **options)
        result.update(
            benchmark=each,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            machine={
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
        )
        out = benchmarks_dir() / "results" / f"{each}-{result['backend']}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        result["written_to"] = str(out)
        results.append(result)
    return results
