"""The ``riskkit`` command: a thin layer over the Python API.

Exit codes: 0 success; 1 a run executed but failed; 2 invalid input or parameters (nothing was executed or
written); 130 interrupted. Every error a user can cause is printed as one clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from riskkit import __version__
from riskkit.exceptions import InvalidDataPack, ParameterError, RiskkitError, RunFailed

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


def _cmd_validate(args: argparse.Namespace) -> int:
    from riskkit.datapack import validate_datapack

    report = validate_datapack(args.path, as_of=args.as_of)
    print(report.format(max_per_kind=args.max_per_kind))
    return EXIT_OK if report.ok else EXIT_INVALID


def _cmd_summary(args: argparse.Namespace) -> int:
    from riskkit.datapack import describe_pack, load_datapack

    pack = load_datapack(args.path, as_of=args.as_of)
    print(pack.report.summary_line())
    print(describe_pack(pack))
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from riskkit.sample import generate

    summary = generate(args.out, actions=args.actions, seed=args.seed, overwrite=args.overwrite)
    rows = ", ".join(f"{k} {v:,}" for k, v in summary.rows.items())
    print(f"wrote {summary.path} in {summary.seconds:.1f} s: {rows}")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from riskkit.schema import describe

    print(describe())
    return EXIT_OK


def _cmd_cycle(args: argparse.Namespace) -> int:
    from riskkit.cycles import resolve

    cycle = resolve(args.cycle, as_of=args.as_of)
    print(f"{cycle.id}: {cycle.label}; start {cycle.start.isoformat()}, end (exclusive) {cycle.end.isoformat()}")
    return EXIT_OK


def _cmd_metrics(args: argparse.Namespace) -> int:
    from riskkit import metrics

    if args.definitions:
        print(metrics.definitions_markdown(), end="")
        return EXIT_OK
    if not args.path or not args.cycle:
        raise ParameterError("riskkit metrics needs a data pack PATH and --cycle (or --definitions)")
    from riskkit.cycles import resolve
    from riskkit.datapack import load_datapack

    pack = load_datapack(args.path, as_of=args.as_of, columns=metrics.REQUIRED_COLUMNS if args.lean else None)
    cycle = resolve(args.cycle, as_of=pack.meta.as_of)
    result = metrics.compute(pack, cycle)
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.overwrite:
            raise ParameterError(f"{out} exists; pass --overwrite to replace it")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        result.table.to_csv(tmp, index=False)
        tmp.replace(out)
        print(f"wrote {len(result.table):,} metric rows for {cycle.id} to {out}")
    else:
        wide = result.wide(scope=args.scope)
        with pd_options():
            print(f"{pack.meta.platform_name} — {cycle.id} ({cycle.label}), scope {args.scope}")
            print(wide.T.to_string(float_format=_number))
    for name, why in result.unavailable.items():
        print(f"{name}: {why}", file=sys.stderr)
    return EXIT_OK


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500)


def _cmd_questionnaire(args: argparse.Namespace) -> int:
    from riskkit.audit import questionnaire, write_questionnaire
    from riskkit.cycles import resolve

    q = questionnaire(args.audit, resolve(args.cycle), previous=args.from_previous)
    path = write_questionnaire(q, args.out, overwrite=args.overwrite)
    kept = int((q["evidence"] != "").sum())
    source = f", evidence kept for {kept} item(s) from {args.from_previous}" if args.from_previous else ""
    print(f"wrote {path}: {len(q)} items of {q.attrs['framework']} for {q.attrs['cycle']}, all 'to_review'{source}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    import os

    from riskkit.runner import run_cycle

    data = args.data or os.environ.get("RISKKIT_DATA")
    if not data:
        raise ParameterError("riskkit run needs --data DIR (or RISKKIT_DATA): the data pack to report on")
    result = run_cycle(
        data,
        args.cycle,
        out=args.out,
        only=args.only,
        jobs=args.jobs,
        as_of=args.as_of,
        notebooks_dir=args.notebooks,
        timeout=args.timeout,
        progress=not args.quiet and sys.stderr.isatty(),
        on_event=None if args.quiet else (lambda msg: print(msg, file=sys.stderr)),
    )
    print(result.index)
    return EXIT_OK


def _cmd_import_dsa(args: argparse.Namespace) -> int:
    from riskkit.importers.dsa import import_dsa, list_platforms

    if args.list_platforms:
        counts = list_platforms(args.inputs)
        width = max([len("platform_name"), *map(len, counts)])
        print(f"{'platform_name':<{width}}  statements")
        for name, n in counts.most_common():
            print(f"{name:<{width}}  {n:>10,}")
        print(f"{len(counts)} platform(s), {sum(counts.values()):,} statements (no pack written)")
        return EXIT_OK
    from riskkit.framework import load_library

    result = import_dsa(
        args.inputs,
        args.out,
        library=load_library(),
        into=args.into,
        platform=args.platform,
        territory=args.territory,
        service_type=args.service_type,
    )
    print(result.format())
    if result.layout == "into":
        return EXIT_OK  # validated as a whole before anything was written
    from riskkit.datapack import validate_datapack

    ok = True
    for name, report in result.reports.items():
        check = validate_datapack(report.folder)
        print(f"{name}: {check.summary_line()}")
        ok = ok and check.ok
    return EXIT_OK if ok else EXIT_INVALID


def _cmd_frameworks(args: argparse.Namespace) -> int:
    from riskkit.framework import load_library

    lib = load_library()
    for fw_id, fw in sorted(lib.frameworks.items()):
        print(f"{fw_id:<28} {fw.version:<8} {fw.kind:<16} {fw.name_en}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riskkit",
        description="Online-safety risk assessment and audit workbook (MCMC Code 2024, ONSA 2025, RMC/CPC 2026).",
        epilog="Exit codes: 0 ok, 1 run failed, 2 invalid input or parameters, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"riskkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="validate a data pack and print every problem (exit 0 valid, 2 invalid)")
    p.add_argument("path", help="data pack folder (with datapack.yaml)")
    p.add_argument("--max-per-kind", type=int, default=10, metavar="N", help="examples shown per problem kind")
    p.add_argument(
        "--as-of",
        default=None,
        help="treat timestamps after this instant as errors (default: datapack.yaml as_of, else now)",
    )
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("summary", help="validate a data pack and print what it holds")
    p.add_argument("path", help="data pack folder")
    p.add_argument("--as-of", default=None)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("sample", help="generate the synthetic 'Serambi' data pack (deterministic for a seed)")
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--actions", type=int, default=None, help="number of moderation actions")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same bytes)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty folder")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("schema", help="print the data contract (tables, columns, enums, keys) as Markdown")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("metrics", help="compute every registered metric for a cycle (or print the definitions)")
    p.add_argument("path", nargs="?", help="data pack folder")
    p.add_argument("--cycle", help="2025-H1, 2025-H2, 2025, latest or latest-year")
    p.add_argument("--scope", default="malaysia", choices=("malaysia", "global"), help="scope of the printed table")
    p.add_argument("--out", help="write the tidy table as CSV instead of printing")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--lean", action="store_true", help="read only the columns the metrics need (large packs)")
    p.add_argument("--as-of", default=None)
    p.add_argument("--definitions", action="store_true", help="print the metric registry as Markdown")
    p.set_defaults(func=_cmd_metrics)

    p = sub.add_parser(
        "questionnaire", help="write a blank audit questionnaire, or one pre-filled from a previous run (.csv/.xlsx)"
    )
    p.add_argument("--audit", required=True, help="safety_by_design, child_safety or accessibility")
    p.add_argument("--cycle", required=True, help="the cycle it is for, e.g. 2026-H1 or latest")
    p.add_argument("--from-previous", default=None, metavar="RUN", help="previous run folder or questionnaire file")
    p.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_cmd_questionnaire)

    p = sub.add_parser("run", help="run a reporting cycle: validate, execute the notebooks, render offline HTML")
    p.add_argument("--cycle", required=True, help="2025-H1, 2025-H2, 2025, latest (half-year) or latest-year")
    p.add_argument("--data", help="data pack folder (default: $RISKKIT_DATA)")
    p.add_argument("--out", default="reports", help="reports folder (default: reports/)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these notebooks (name or number, e.g. 01 03)")
    p.add_argument("--jobs", type=int, default=None, help="notebooks run in parallel (default: CPU cores)")
    p.add_argument("--as-of", default=None, help="judge 'latest' at this instant instead of now (ISO, with offset)")
    p.add_argument("--timeout", type=int, default=900, help="seconds a notebook cell may take (default 900)")
    p.add_argument("--notebooks", default=None, help="notebooks folder (default: the repository's notebooks/)")
    p.add_argument("--quiet", action="store_true", help="print only the path of index.html")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("import", help="import another format as a data pack")
    formats = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    d = formats.add_parser(
        "dsa",
        help="DSA statements of reasons: dump CSV chunks, zip-of-zips or Parquet",
        description="Import DSA statements of reasons as data packs; every row read is accounted for in the "
        "import report (printed, and written into each pack as import_report.md / .json).",
    )
    d.add_argument("inputs", nargs="+", metavar="INPUT", help="dump files (.csv, .zip, .parquet; .sha1 are skipped)")
    target = d.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="new folder: the pack, or one pack per platform in subfolders")
    target.add_argument("--into", metavar="EXISTING_PACK", help="add the actions table to an existing pack")
    target.add_argument(
        "--list-platforms", action="store_true", help="print the platform names in the dump with counts (no pack)"
    )
    d.add_argument(
        "--platform",
        metavar="NAME|all",
        help="import only this platform_name; 'all' = one pack per platform under --out (the default when the dump "
        "holds several platforms)",
    )
    d.add_argument(
        "--territory",
        default="MY",
        metavar="CODES|all",
        help="ISO 3166-1 alpha-2 code(s), e.g. MY or MY,SG: a statement is in Malaysian scope when its "
        "territorial_scope lists one; 'all' when every statement concerns Malaysia (default MY)",
    )
    d.add_argument("--service-type", default="social_media", choices=("social_media", "messaging", "hybrid"))
    d.set_defaults(func=_cmd_import_dsa)

    p = sub.add_parser("frameworks", help="list the framework library (ids, versions, kinds)")
    p.set_defaults(func=_cmd_frameworks)

    p = sub.add_parser("cycle", help="show a reporting cycle's bounds in Malaysian time (e.g. 2025-H2, 2025, latest)")
    p.add_argument("cycle")
    p.add_argument("--as-of", default=None, help="for 'latest': the instant to judge completeness at (default now)")
    p.set_defaults(func=_cmd_cycle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sample":
        from riskkit import sample

        args.actions = sample.DEFAULT_ACTIONS if args.actions is None else args.actions
        args.seed = sample.DEFAULT_SEED if args.seed is None else args.seed
    try:
        return int(args.func(args))
    except InvalidDataPack as exc:
        print(exc.report.format(max_per_kind=getattr(args, "max_per_kind", 10)), file=sys.stderr)
        return EXIT_INVALID
    except RunFailed as exc:
        print(f"riskkit: run failed: {exc}", file=sys.stderr)
        if exc.result is not None:
            print(exc.result.index)
        return exc.exit_code
    except RiskkitError as exc:
        print(f"riskkit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("riskkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
