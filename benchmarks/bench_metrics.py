"""Benchmark: riskkit.metrics.compute against the same core metrics in DuckDB SQL over the same files.

Generates (or reuses) a pack with N actions and proportionate reports and appeals, then runs each engine in a
fresh subprocess ``--repeat`` times (so imports, reads and peak RSS are each process's own), checks that both
engines agree on every core metric, and prints medians and ratios.

    python benchmarks/bench_metrics.py --actions 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CYCLE = "2025-H2"

# Core metrics both engines compute, per scope x category (and "all"): counts, rates and percentiles.
DUCKDB_SQL = r"""
WITH bounds AS (
  SELECT TIMESTAMPTZ '2025-01-01 00:00:00+08' AS p0, TIMESTAMPTZ '2025-07-01 00:00:00+08' AS p1,
         TIMESTAMPTZ '2026-01-01 00:00:00+08' AS p2
),
a AS (
  SELECT x.*, CASE WHEN detected_at >= p1 AND detected_at < p2 THEN 1
                   WHEN detected_at >= p0 AND detected_at < p1 THEN 0 END AS period,
         CASE WHEN detected_at >= p1 THEN p2 ELSE p1 END AS horizon
  FROM read_parquet('{actions}') x, bounds
  WHERE detected_at >= p0 AND detected_at < p2
),
ac AS (
  SELECT *, action <> 'no_violation' AS enforced,
         actioned_at IS NOT NULL AND actioned_at < horizon AS done,
         ceil(epoch_us(actioned_at - detected_at) / 60e6) AS minutes,
         category IN ('csam', 'financial_scam')
           AND detection_source IN ('automated', 'proactive_human') AS priority  -- s.22, own-initiative path
  FROM a
),
scoped AS (
  SELECT 'global' AS scope, * FROM ac UNION ALL SELECT 'malaysia', * FROM ac WHERE in_malaysia
),
cats AS (
  SELECT scope, category, * EXCLUDE (scope, category) FROM scoped
  UNION ALL SELECT scope, 'all', * EXCLUDE (scope, category) FROM scoped
)
SELECT scope, category, period,
  count(*) AS decisions,
  count(*) FILTER (enforced) AS actions_enforced,
  count(*) FILTER (action IN ('suspend_account', 'terminate_account')) AS accounts_actioned,
  count(*) FILTER (enforced AND detection_source IN ('automated', 'proactive_human')) AS proactive,
  count(*) FILTER (NOT done) AS open_at_cycle_end,
  count(*) FILTER (enforced AND rationale IS NOT NULL AND rationale <> '' AND policy_ref IS NOT NULL
                   AND policy_ref <> '') AS record_complete,
  count(*) FILTER (decision_by = 'automated') AS automated_decisions,
  quantile_disc(minutes, 0.5) FILTER (enforced AND done) AS tta_p50_min,
  quantile_disc(minutes, 0.9) FILTER (enforced AND done) AS tta_p90_min,
  count(*) FILTER (priority AND (NOT (done AND action NOT IN
          ('remove', 'restrict', 'suspend_account', 'terminate_account')))
        AND ((done AND actioned_at <= detected_at + INTERVAL 24 HOUR)))              AS sla_priority_within,
  count(*) FILTER (priority AND (NOT (done AND action NOT IN
          ('remove', 'restrict', 'suspend_account', 'terminate_account')))
        AND (done OR detected_at + INTERVAL 24 HOUR < horizon))                       AS sla_priority_due
FROM cats GROUP BY ALL ORDER BY ALL
"""

DUCKDB_REPORTS_SQL = r"""
WITH r AS (
  SELECT x.*, TIMESTAMPTZ '2026-01-01 00:00:00+08' AS horizon FROM read_parquet('{reports}') x
  WHERE received_at >= TIMESTAMPTZ '2025-07-01 00:00:00+08' AND received_at < TIMESTAMPTZ '2026-01-01 00:00:00+08'
    AND in_malaysia
)
SELECT count(*) AS reports_received,
  count(*) FILTER (acknowledged_at IS NOT NULL AND acknowledged_at < horizon
                   AND acknowledged_at <= received_at + INTERVAL 1 HOUR) AS ack_within,
  count(*) FILTER ((acknowledged_at IS NOT NULL AND acknowledged_at < horizon)
                   OR received_at + INTERVAL 1 HOUR < horizon) AS ack_due
FROM r
"""

# s.22 for reported items: from the report to the decision linked to it (one count per report), judged at the cycle
# end; a report closed without a decision (no violation, dismissed, duplicate) is a decision not to act.
DUCKDB_S22_SQL = r"""
WITH r AS (
  SELECT x.*, TIMESTAMPTZ '2026-01-01 00:00:00+08' AS horizon, x.received_at + INTERVAL 24 HOUR AS deadline,
         d.actioned_at AS decided_at, d.action AS decision
  FROM read_parquet('{reports}') x LEFT JOIN read_parquet('{actions}') d USING (action_id)
  WHERE x.received_at >= TIMESTAMPTZ '2025-07-01 00:00:00+08' AND x.received_at < TIMESTAMPTZ '2026-01-01 00:00:00+08'
    AND x.category IN ('csam', 'financial_scam')
),
o AS (
  SELECT *, decided_at IS NOT NULL AND decided_at < horizon AS decided,
         decision IN ('remove', 'restrict', 'suspend_account', 'terminate_account') AS stop_action,
         decided_at IS NULL AND action_id IS NULL AND resolved_at IS NOT NULL AND resolved_at < horizon
           AND outcome IN ('no_violation', 'dismissed', 'duplicate') AS closed_unlinked
  FROM r
),
scoped AS (
  SELECT 'global' AS scope, * FROM o UNION ALL SELECT 'malaysia', * FROM o WHERE coalesce(in_malaysia, false)
),
cats AS (
  SELECT scope, category, * EXCLUDE (scope, category) FROM scoped
  UNION ALL SELECT scope, 'all', * EXCLUDE (scope, category) FROM scoped
)
SELECT scope, category,
  count(*) FILTER (decided AND stop_action AND decided_at <= deadline) AS within,
  count(*) FILTER (NOT ((decided AND NOT stop_action) OR closed_unlinked)
                   AND ((decided AND stop_action) OR deadline < horizon)) AS due
FROM cats GROUP BY ALL ORDER BY ALL
"""

DUCKDB_APPEALS_SQL = r"""
SELECT CASE WHEN a.in_malaysia THEN 'malaysia' ELSE 'other' END AS scope, a.decision_by,
  count(*) FILTER (p.outcome = 'reversed') AS reversed, count(*) AS decided
FROM read_parquet('{appeals}') p JOIN read_parquet('{actions}') a USING (action_id)
WHERE p.filed_at >= TIMESTAMPTZ '2025-07-01 00:00:00+08' AND p.filed_at < TIMESTAMPTZ '2026-01-01 00:00:00+08'
  AND p.decided_at IS NOT NULL AND p.decided_at < TIMESTAMPTZ '2026-01-01 00:00:00+08'  -- filed in, decided by the end
GROUP BY ALL ORDER BY ALL
"""

RUN_DUCKDB = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import duckdb
pack = sys.argv[1]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
files = {k: f"{pack}/{k}.parquet" for k in ("actions", "reports", "appeals")}
main = con.execute(SQL.format(**files)).fetchall()
cols = [d[0] for d in con.description]
reports = con.execute(RSQL.format(**files)).fetchone()
appeals = con.execute(ASQL.format(**files)).fetchall()
s22 = con.execute(S22SQL.format(**files)).fetchall()
wall = time.perf_counter() - t0
rows = [dict(zip(cols, r)) for r in main]
print(json.dumps({"wall": wall, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": rows, "reports": list(reports), "appeals": appeals, "s22": s22}, default=str))
"""

RUN_RISKKIT = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from riskkit.library import load_library
from riskkit.pack import load_datapack
from riskkit.metrics import REQUIRED_COLUMNS, compute
t1 = time.perf_counter()
lib = load_library()
pack = load_datapack(sys.argv[1], library=lib, columns=REQUIRED_COLUMNS)
t2 = time.perf_counter()
m = compute(pack, sys.argv[2], library=lib)
t3 = time.perf_counter()
t = m.table
keep = t[(t["dimension"] == "") | ((t["metric"] == "reversal_rate") & (t["dimension"] == "decision_by"))]
print(json.dumps({"wall": t3 - t0, "import": t1 - t0, "load": t2 - t1, "compute": t3 - t2,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": keep.to_dict("records")}, default=str))
"""


def _run(code: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _duckdb_code() -> str:
    return reference_code() + RUN_DUCKDB


def reference_code() -> str:
    """The reference SQL as Python assignments (SQL, RSQL, ASQL, S22SQL), for a fresh process."""
    return (
        f"SQL = {DUCKDB_SQL!r}\nRSQL = {DUCKDB_REPORTS_SQL!r}\nASQL = {DUCKDB_APPEALS_SQL!r}\n"
        f"S22SQL = {DUCKDB_S22_SQL!r}\n"
    )


def check_agreement(rk: dict, db: dict) -> list[str]:
    """Differences between the engines (empty list = they agree)."""
    ours = {(r["scope"], r["category"], r["metric"], r["level"]): r for r in rk["rows"]}
    reported = {(scope, category): (within, due) for scope, category, within, due in db["s22"]}
    problems: list[str] = []

    def cmp(key: tuple, field: str, want: float, tol: float = 0.0) -> None:
        row = ours.get(key)
        got = float("nan") if row is None else float(row[field])
        if (math.isnan(got) and want is None) or (want is not None and abs(got - float(want)) <= tol):
            return
        problems.append(f"{key} {field}: riskkit {got} vs duckdb {want}")

    for r in db["rows"]:
        if r["period"] is None:
            continue
        field = "value" if int(r["period"]) == 1 else "previous_value"
        k = (r["scope"], r["category"])
        for metric in ("decisions", "actions_enforced", "accounts_actioned", "open_at_cycle_end"):
            cmp((*k, metric, ""), field, r[metric])
        if int(r["period"]) == 1:
            cmp((*k, "proactive_rate", ""), "numerator", r["proactive"])
            cmp((*k, "record_complete_share", ""), "numerator", r["record_complete"])
            cmp((*k, "automated_decision_share", ""), "numerator", r["automated_decisions"])
            if r["category"] in ("all", "csam", "financial_scam"):  # s.22: own-initiative + reported paths
                within, due = reported.get(k, (0, 0))
                cmp((*k, "sla.onsa.priority_inaccessible_24h", ""), "numerator", r["sla_priority_within"] + within)
                cmp((*k, "sla.onsa.priority_inaccessible_24h", ""), "denominator", r["sla_priority_due"] + due)
            n = ours.get((*k, "tta_median_h", ""), {}).get("denominator") or 0
            if r["tta_p50_min"] is not None and n >= 1000:  # nearest-rank vs quantile_disc: adjacent ranks
                cmp((*k, "tta_median_h", ""), "value", float(r["tta_p50_min"]) / 60, tol=2 / 60)
                cmp((*k, "tta_p90_h", ""), "value", float(r["tta_p90_min"]) / 60, tol=2 / 60)
    received, ack_within, ack_due = db["reports"]
    cmp(("malaysia", "all", "reports_received", ""), "value", received)
    cmp(("malaysia", "all", "sla.onsa.report_ack_1h", ""), "numerator", ack_within)
    cmp(("malaysia", "all", "sla.onsa.report_ack_1h", ""), "denominator", ack_due)
    for scope, decider, rev, dec in db["appeals"]:
        if scope == "malaysia":
            cmp(("malaysia", "all", "reversal_rate", decider), "numerator", rev)
            cmp(("malaysia", "all", "reversal_rate", decider), "denominator", dec)
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pack", type=Path, default=None, help="reuse a generated pack folder")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="riskkit-bench-")
    pack = args.pack or Path(tmp.name) / "pack"
    if not (pack / "datapack.yaml").exists():
        from riskkit.library import load_library
        from riskkit.sample import generate

        print(f"generating {args.actions:,} actions into {pack} …", flush=True)
        generate(pack, actions=args.actions, library=load_library())
    rk_runs, db_runs = [], []
    for i in range(args.repeat):
        db_runs.append(_run(_duckdb_code(), str(pack)))
        rk_runs.append(_run(RUN_RISKKIT, str(pack), CYCLE))
        print(
            f"  run {i + 1}: duckdb {db_runs[-1]['wall']:.2f} s, riskkit {rk_runs[-1]['wall']:.2f} s "
            f"(load {rk_runs[-1]['load']:.2f}, compute {rk_runs[-1]['compute']:.2f})",
            flush=True,
        )
    problems = check_agreement(rk_runs[-1], db_runs[-1])

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    db_wall, rk_wall = med(db_runs, "wall"), med(rk_runs, "wall")
    rk_compute, rk_load = med(rk_runs, "compute"), med(rk_runs, "load")
    db_rss, rk_rss = med(db_runs, "rss"), med(rk_runs, "rss")
    print()
    print(f"pack: {pack} ({args.actions:,} actions); cycle {CYCLE}; median of {args.repeat} fresh processes")
    print(f"duckdb : wall {db_wall:6.2f} s   peak RSS {db_rss:7.0f} MiB")
    print(
        f"riskkit: wall {rk_wall:6.2f} s   peak RSS {rk_rss:7.0f} MiB   "
        f"(import {med(rk_runs, 'import'):.2f} s, read+validate {rk_load:.2f} s, compute {rk_compute:.2f} s)"
    )
    print(f"ratio riskkit/duckdb wall (end to end, riskkit also validates): {rk_wall / db_wall:.2f}x")
    print(f"ratio riskkit compute / duckdb end to end:                     {rk_compute / db_wall:.2f}x")
    print(f"ratio peak RSS riskkit/duckdb:                                 {rk_rss / db_rss:.2f}x")
    print("agreement:", "all core metrics equal" if not problems else f"{len(problems)} differences")
    for p in problems[:20]:
        print("  ", p)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
