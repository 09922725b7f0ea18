"""Benchmark: importing a generated DSA dump of N statements (default 5 M) — wall time, CPU time and peak RSS.

The dump is synthetic, in the daily-dump CSV layout (every cell quoted), split into 100,000-row chunk files as the
real dumps are, and written once into a temporary folder. Values are random draws from the documented
enumerations; the free text is shaped like real dumps: grounds from a few dozen templates (several languages,
some matching the text rules) and 20% of the explanations unique to their statement; created_at to the second.

    python benchmarks/bench_dsa_import.py --rows 5000000 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskkit.library import load_library

RUN = r"""
import json, resource, sys, time
from riskkit.library import load_library
from riskkit.importers.dsa import import_dsa
library = load_library()
t0, c0 = time.perf_counter(), time.process_time()
result = import_dsa(sys.argv[2:], sys.argv[1], territory="MY", library=library)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                  "rows_out": result.report.rows_kept,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

GROUNDS = [
    "Community Guidelines 4.2",
    "Terms of Service, section 7",
    "Minimum Age Requirement",
    "Pornography or sexualised content",
    "Profanity",
    "Harassment and bullying",
    "Hateful behaviour",
    "Violent and graphic content",
    "Scams and fraud",
    "Suicide and self-harm",
    "Sexual Exploitation and Gender-Based Violence",
    "Products harmful to minors or pornographic",
    "Nutzungsbedingungen 3.1 (Nacktheit)",
    "Conditions d'utilisation : harcèlement",
    "Condiciones de uso: contenido sexual",
    "Termini di servizio: truffa",
    "Regulamin: mowa nienawiści",
    "Gebruiksvoorwaarden: spam",
    "Spam",
    "Copyright infringement",
]
EXPLANATIONS = [
    "The content violates the platform's rules.",
    "Reviewed by a moderator and found to breach the policy.",
    "Detected by an automated classifier; confirmed on review.",
    "Reported by a user; the account was found to be under the minimum age.",
    "The listing offered a product that is not allowed.",
]


def write_dump(folder: Path, rows: int, chunk: int = 100_000, seed: int = 7) -> list[Path]:
    mapping = load_library().dsa_import
    cols = list(mapping.columns.full)
    cats = [e.ref_id for e in mapping.categories if e.schema_ != 1]
    kws = [e.ref_id for e in mapping.keywords if e.schema_ != 1]
    vis = [
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED",
    ]
    sources = ["SOURCE_VOLUNTARY", "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION"]
    deciders = ["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
    rng = np.random.default_rng(seed)
    paths = []
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        ids = np.arange(start, start + n)
        day = rng.integers(0, 180, n)
        age = rng.integers(0, 400, n)
        decided = pd.to_datetime("2025-07-01") + pd.to_timedelta(day, unit="D")
        frame = pd.DataFrame({c: "" for c in cols}, index=range(n))
        frame["uuid"] = [f"00000000-0000-4000-8000-{i:012d}" for i in ids]
        frame["decision_visibility"] = [json.dumps([v]) for v in rng.choice(vis, n)]
        frame["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        frame["decision_ground_reference_url"] = "https://contoh.example/terms"
        frame["incompatible_content_ground"] = rng.choice(GROUNDS, n)
        explanation = rng.choice(EXPLANATIONS, n).astype(object)
        unique = rng.random(n) < 0.2
        explanation[unique] = [
            f"Case {i}: the post repeated a claim reviewed on {d:%d %B}."
            for i, d in zip(ids[unique], decided[unique], strict=True)
        ]
        frame["incompatible_content_explanation"] = explanation
        frame["category"] = rng.choice(cats, n)
        frame["category_addition"] = "[]"
        frame["category_specification"] = np.where(
            rng.random(n) < 0.5, [json.dumps([k]) for k in rng.choice(kws, n)], "[]"
        )
        frame["content_type"] = '["CONTENT_TYPE_VIDEO"]'
        frame["content_date"] = (decided - pd.to_timedelta(age, unit="D")).strftime("%Y-%m-%d 00:00:00")
        frame["territorial_scope"] = np.where(rng.random(n) < 0.8, '["MY"]', '["SG"]')
        frame["application_date"] = decided.strftime("%Y-%m-%d 00:00:00")
        frame["decision_facts"] = "Content reviewed and found to breach the platform's policy."
        frame["source_type"] = rng.choice(sources, n)
        frame["automated_detection"] = np.where(rng.random(n) < 0.6, "Yes", "No")
        frame["automated_decision"] = rng.choice(deciders, n)
        frame["platform_name"] = "Contoh"
        frame["platform_uid"] = [f"P{i:010d}" for i in ids]
        frame["created_at"] = (decided + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        path = folder / f"sor-contoh-2025-full-{start // chunk:05d}-00000.csv"
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--dump", type=Path, help="reuse (or create) the dump in this folder instead of a temporary one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-dsa-") as tmp:
        t0 = time.perf_counter()
        folder = args.dump or Path(tmp) / "dump"
        files = sorted(folder.glob("sor-*.csv")) if folder.is_dir() else []
        if not files:
            folder.mkdir(parents=True, exist_ok=True)
            files = write_dump(folder, args.rows)
        rows = args.rows if not args.dump else sum(1 for f in files for _ in f.open("rb")) - len(files)
        size = sum(f.stat().st_size for f in files)
        print(
            f"dump: {rows:,} statements in {len(files)} files, {size / 2**20:,.0f} MiB "
            f"(ready in {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        runs = []
        for i in range(args.repeat):
            proc = subprocess.run(
                [sys.executable, "-c", RUN, f"{tmp}/pack{i}", *map(str, files)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = runs[-1]
            print(
                f"  run {i + 1}: {r['seconds']:.1f} s (CPU {r['cpu_seconds']:.1f} s), peak RSS {r['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    rss = statistics.median(r["peak_rss_mib"] for r in runs)
    print(
        f"import of {rows:,} statements: median {seconds:.1f} s ({rows / seconds:,.0f} statements/s; CPU {cpu:.1f} s), "
        f"peak RSS {rss:.0f} MiB (chunk 200,000 rows)"
    )


if __name__ == "__main__":
    main()
