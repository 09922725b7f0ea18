"""Benchmark: the JupyterLab explorer on a large pack — opening (pre-aggregation) and update latency.

Generates (or reuses) a pack with N actions (default 1 M), then in ``--repeat`` fresh processes: loads the pack,
builds the explorer (model pre-aggregation, then the widget view with its first render), and times a series of
selection changes through the view — each one is the model answering from its cubes plus the assignment of the new
data to the three ``FigureWidget`` charts and the drill-down page — without a browser. Prints medians and checks
the target: every update within 1 s.

    python benchmarks/bench_explorer.py --repeat 3 [--actions 1000000] [--pack DIR] [--engine duckdb]

With ``--engine duckdb`` the pack is opened on DuckDB (its Parquet files read in place): "load" is opening and
validating it in the engine, "pre-aggregation" the cube queries, and every page turn or sort is one engine query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_S = 1.0

#: Selection changes, applied one after the other (each is one update, as one widget change would be).
CHANGES: list[dict] = [
    {"categories": ["financial_scam"]},
    {"surfaces": ["ads"]},
    {"metric": "tta_median_h"},
    {"sources": ["automated", "user_report"]},
    {"scope": "global"},
    {"metric": "proactive_rate"},
    {"cycle": "2025-H2", "compare": "2025-H1"},
    {"categories": ["csam", "ncii", "child_self_harm"]},
    {"metric": "sla.onsa.priority_inaccessible_24h"},
    {"surfaces": []},
    {"metric": "reversal_rate"},
    {"cycle": "2025", "compare": None},
    {"sources": []},
    {"metric": "reports_received"},
    {"categories": []},
    {"scope": "malaysia"},
    {"metric": "tta_p90_h"},
    {"cycle": "2026-H1", "compare": "2025-H2"},
    {"surfaces": ["messages", "comments", "groups"]},
    {"metric": "actions_enforced"},
]

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from riskkit.library import load_library
from riskkit.pack import load_datapack
from riskkit.explorer import EXPLORER_COLUMNS, Explorer, ExplorerModel
import ipywidgets, anywidget
from plotly.graph_objects import FigureWidget  # imports (plotly.io pulls nbformat, jsonschema) are counted apart
t1 = time.perf_counter()
lib = load_library()
if sys.argv[3] == "inprocess":
    pack = load_datapack(sys.argv[1], library=lib, columns=EXPLORER_COLUMNS)
else:
    from riskkit.engines.packs import open_pack
    pack = open_pack(sys.argv[1], library=lib, engine=sys.argv[3])
t2 = time.perf_counter()
model = ExplorerModel(pack, library=lib)
t3 = time.perf_counter()
view = Explorer(model)
t4 = time.perf_counter()
updates = []
for change in json.loads(sys.argv[2]):
    s = time.perf_counter()
    view.select(**change)
    updates.append(time.perf_counter() - s)
pages = []
for button in (view.next, view.next, view.last, view.first):
    s = time.perf_counter()
    button.click()
    pages.append(time.perf_counter() - s)
sorts = []
for key in ("hours_to_action", "category", "action_id", "detected_at"):
    s = time.perf_counter()
    view.sort.value = key
    sorts.append(time.perf_counter() - s)
print(json.dumps({
    "actions": model.n_actions, "import": t1 - t0, "load": t2 - t1, "model": t3 - t2, "view": t4 - t3,
    "updates": updates, "pages": pages, "sorts": sorts,
    "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def _child(pack: Path, engine: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(pack), json.dumps(CHANGES), engine],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pack", type=Path, default=None, help="reuse a generated pack folder")
    parser.add_argument("--engine", default="inprocess", choices=("inprocess", "duckdb", "spark"))
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="riskkit-bench-explorer-")
    pack = args.pack or Path(tmp.name) / "pack"
    if not (pack / "datapack.yaml").exists():
        from riskkit.library import load_library
        from riskkit.sample import generate

        print(f"generating {args.actions:,} actions into {pack} …", flush=True)
        generate(pack, actions=args.actions, library=load_library())

    runs = []
    for i in range(args.repeat):
        r = _child(pack, args.engine)
        runs.append(r)
        print(
            f"  run {i + 1}: load {r['load']:.2f} s, pre-aggregation {r['model']:.2f} s, view {r['view']:.2f} s; "
            f"updates median {statistics.median(r['updates']):.3f} s, max {max(r['updates']):.3f} s",
            flush=True,
        )

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    updates = [u for r in runs for u in r["updates"]]
    pages = [u for r in runs for u in r["pages"]]
    sorts = [u for r in runs for u in r["sorts"]]
    worst = max(updates + pages + sorts)
    print()
    print(f"pack: {pack} ({runs[0]['actions']:,} actions) on {args.engine}; median of {args.repeat} fresh processes")
    print(f"imports {med('import'):.2f} s (riskkit, plotly FigureWidget, ipywidgets, anywidget)")
    print(
        f"open : read+validate {med('load'):.2f} s; pre-aggregation {med('model'):.2f} s; view + first render "
        f"{med('view'):.2f} s; open total {med('model') + med('view'):.2f} s (after the pack is loaded)"
    )
    print(
        f"update (selection change → model → 3 FigureWidgets + table page), {len(updates)} changes: "
        f"median {statistics.median(updates) * 1000:.0f} ms, max {max(updates) * 1000:.0f} ms"
    )
    print(
        f"drill-down page turn: median {statistics.median(pages) * 1000:.0f} ms; "
        f"new sort order: median {statistics.median(sorts) * 1000:.0f} ms, max {max(sorts) * 1000:.0f} ms"
    )
    print(f"peak RSS {med('rss'):.0f} MiB")
    ok = worst <= TARGET_S
    print(f"target: every update ≤ {TARGET_S:.0f} s — {'met' if ok else 'MISSED'} (slowest {worst * 1000:.0f} ms)")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
