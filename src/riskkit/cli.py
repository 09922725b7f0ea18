"""The ``riskkit`` command: a thin layer over the Python API.

Exit codes: 0 success; 1 a run executed but failed, or an output could not be written (disk full); 2 invalid
input or parameters (nothing was executed or written); 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Every error a user can cause is printed as one clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from riskkit import __version__
from riskkit.exceptions import Interrupted, InvalidDataPack, ParameterError, RiskkitError, RunFailed, WriteFailed
from riskkit.terminal import printable

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def _cycle_arg(text: str) -> str:
    """``--cycle``: a half-year, a year (within the supported years) or latest / latest-half / latest-year."""
    from riskkit.cycles import parse

    if text.strip().lower() in ("latest", "latest-half", "latest-year"):
        return text
    try:
        parse(text)
    except RiskkitError as exc:
        raise argparse.ArgumentTypeError(printable(str(exc))) from None
    return text


def _as_of_arg(text: str) -> str:
    """``--as-of``: ISO 8601 with an offset, within the supported years (checked before anything is read)."""
    from riskkit.cycles import parse_instant

    try:
        parse_instant(text)
    except RiskkitError as exc:
        raise argparse.ArgumentTypeError(printable(str(exc))) from None
    return text


def _whole(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def _library(args: argparse.Namespace):
    """The framework library of this command: packaged, with every --frameworks folder or file applied."""
    from riskkit.library import load_library

    return load_library(args.frameworks or ())


def _on_engine(args: argparse.Namespace, path: str) -> bool:
    """Whether the pack is opened on an engine: --engine duckdb|spark, or a warehouse pack (source: in datapack.yaml)."""
    from riskkit.engines.packs import on_engine

    return on_engine(path, getattr(args, "engine", None))


def _load(args: argparse.Namespace, path: str, library, columns=None):
    """The pack: read into memory, or opened on its engine (validated either way; InvalidDataPack if not valid)."""
    from riskkit.engines.packs import load_any

    engine = getattr(args, "engine", None)
    master = getattr(args, "spark_master", None)
    return load_any(path, library=library, engine=engine, as_of=args.as_of, spark_master=master, columns=columns)


def _cmd_validate(args: argparse.Namespace) -> int:
    if _on_engine(args, args.path):
        from riskkit.engines.packs import validate_pack

        report = validate_pack(
            args.path, library=_library(args), engine=args.engine, as_of=args.as_of, spark_master=args.spark_master
        )
    else:
        from riskkit.pack import validate_datapack

        report = validate_datapack(args.path, library=_library(args), as_of=args.as_of)
    print(report.format(max_per_kind=args.max_per_kind))
    return EXIT_OK if report.ok else EXIT_INVALID


def _cmd_summary(args: argparse.Namespace) -> int:
    from riskkit.pack import describe_pack

    pack = _load(args, args.path, _library(args))
    print(pack.report.summary_line())
    print(describe_pack(pack))
    if pack.engine is not None:
        from riskkit.engines.packs import describe

        print("\n".join(describe(pack)))
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from riskkit.sample import generate

    summary = generate(args.out, actions=args.actions, seed=args.seed, library=_library(args), overwrite=args.overwrite)
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

    library = _library(args)
    if args.definitions:
        print(metrics.definitions_markdown(library), end="")
        return EXIT_OK
    if not args.path or not args.cycle:
        raise ParameterError("riskkit metrics needs a data pack PATH and --cycle (or --definitions)")
    from riskkit.cycles import check_covered, resolve
    from riskkit.paths import writable_file

    columns = metrics.REQUIRED_COLUMNS if args.lean else None
    if args.out:
        out = writable_file(args.out, "--out")
        if out.exists() and not args.overwrite:
            raise ParameterError(f"{out} exists; pass --overwrite to replace it")
    pack = _load(args, args.path, library, columns)
    cycle = check_covered(
        resolve(args.cycle, as_of=pack.meta.as_of), pack.data_start(), pack.meta.as_of, asked=args.cycle
    )
    result = metrics.compute(pack, cycle, library=library)
    if args.out:
        from riskkit.documents.files import atomic_path

        try:
            with atomic_path(out) as tmp:
                result.table.to_csv(tmp, index=False)
        except OSError as exc:
            raise WriteFailed(f"could not write {out}: {exc.strerror or exc}; nothing was written") from None
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
    from riskkit.audit import check_questionnaire_out, questionnaire, write_questionnaire
    from riskkit.cycles import resolve

    check_questionnaire_out(args.out, overwrite=args.overwrite)  # before any work
    q = questionnaire(args.audit, resolve(args.cycle), library=_library(args), previous=args.from_previous)
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
        frameworks=args.frameworks or (),
        progress=not args.quiet and sys.stderr.isatty(),
        on_event=None if args.quiet else (lambda msg: print(msg, file=sys.stderr)),
        allow_incomplete=args.allow_incomplete,
        pdf=args.pdf,
        publication_date=args.publication_date,
        engine=args.engine,
        spark_master=args.spark_master,
    )
    print(result.index)
    return EXIT_OK


def _cmd_pdf(args: argparse.Namespace) -> int:
    from riskkit.documents.run_pdfs import write_run_pdfs

    for path in write_run_pdfs(args.run):
        print(path)
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
    from riskkit.pack import validate_datapack

    library = _library(args)
    result = import_dsa(
        args.inputs,
        args.out,
        library=library,
        into=args.into,
        platform=args.platform,
        territory=args.territory,
        service_type=args.service_type,
    )
    print(result.format())
    if result.layout == "into":
        return EXIT_OK  # validated as a whole before anything was written
    ok = True
    for name, report in result.reports.items():
        check = validate_datapack(report.folder, library=library)
        print(f"{name}: {check.summary_line()}")
        ok = ok and check.ok
    return EXIT_OK if ok else EXIT_INVALID


def _cmd_export_dsa(args: argparse.Namespace) -> int:
    from riskkit.cycles import check_covered, resolve
    from riskkit.engines.packs import is_warehouse
    from riskkit.pack import load_datapack
    from riskkit.paths import writable_folder
    from riskkit.reports import dsa_transparency as dsa

    if is_warehouse(args.data):
        raise ParameterError(
            f"{args.data} is a warehouse pack (datapack.yaml names a source:); the DSA transparency export reads the "
            "half-year's tables into memory and does not run on an engine yet: export the EU half-year's tables to "
            "Parquet files and point a file pack at them"
        )
    dsa.check_out(args.out, overwrite=args.overwrite)  # before any work
    writable_folder(args.out, "--out")
    library = _library(args)
    pack = load_datapack(args.data, library=library)
    report = dsa.build(
        pack,
        check_covered(resolve(args.cycle, as_of=pack.meta.as_of), pack.data_start(), pack.meta.as_of, asked=args.cycle),
        library=library,
        publication_date=args.publication_date,
        previous_publication_date=args.previous_publication_date,
    )
    files = dsa.write(report, args.out, overwrite=args.overwrite)
    for line in dsa.summary_lines(report):
        print(line)
    print(f"wrote {len(files)} files to {args.out} (review: {Path(args.out) / 'review.html'})")
    return EXIT_OK


def _cmd_frameworks(args: argparse.Namespace) -> int:
    if args.json_schema:
        import json

        from riskkit.library.models import json_schemas

        print(json.dumps(json_schemas(), indent=1))
        return EXIT_OK
    lib = _library(args)
    for row in lib.describe().itertuples():
        print(f"{row.id:<28} {row.version:<8} {row.kind:<24} {row.origin:<9} {row.name}")
    return EXIT_OK


def _frameworks_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--frameworks",
        action="append",
        metavar="DIR",
        help="a folder (or file) of framework YAML that replaces packaged frameworks by id or adds new ones "
        "(repeatable); the ids and versions used are recorded in every output",
    )


class _Parser(argparse.ArgumentParser):
    """argparse, with the arguments it echoes in usage errors shown escaped (``unrecognized arguments: \\x1b[2J``)."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def _engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        default=None,
        metavar="NAME",
        help="where the pack's event tables are read and aggregated: inprocess (default for file packs: pandas in "
        "this process), duckdb (embedded; Parquet files read in place) or spark; a warehouse pack uses its source",
    )
    p.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="the Spark cluster for --engine spark, e.g. spark://host:7077 (default: $RISKKIT_SPARK_MASTER, "
        "else local[*])",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="riskkit",
        description="Online-safety risk assessment and audit workbook (MCMC Code 2024, ONSA 2025, RMC/CPC 2026).",
        epilog="Exit codes: 0 ok, 1 run failed or output not written, 2 invalid input or parameters, "
        "130 interrupted, 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"riskkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="validate a data pack and print every problem (exit 0 valid, 2 invalid)")
    p.add_argument("path", help="data pack folder (with datapack.yaml)")
    p.add_argument("--max-per-kind", type=_whole(0), default=10, metavar="N", help="examples shown per problem kind")
    _frameworks_option(p)
    p.add_argument(
        "--as-of",
        default=None,
        type=_as_of_arg,
        help="treat timestamps after this instant as errors (default: datapack.yaml as_of, else now)",
    )
    _engine_option(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("summary", help="validate a data pack and print what it holds")
    p.add_argument("path", help="data pack folder")
    p.add_argument("--as-of", default=None, type=_as_of_arg)
    _frameworks_option(p)
    _engine_option(p)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("sample", help="generate the synthetic 'Serambi' data pack (deterministic for a seed)")
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--actions", type=int, default=None, help="number of moderation actions")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same bytes)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty folder")
    _frameworks_option(p)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("schema", help="print the data contract (tables, columns, enums, keys) as Markdown")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("metrics", help="compute every registered metric for a cycle (or print the definitions)")
    p.add_argument("path", nargs="?", help="data pack folder")
    p.add_argument("--cycle", type=_cycle_arg, help="2025-H1, 2025-H2, 2025, latest or latest-year")
    p.add_argument("--scope", default="malaysia", choices=("malaysia", "global"), help="scope of the printed table")
    p.add_argument("--out", help="write the tidy table as CSV instead of printing")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--lean", action="store_true", help="read only the columns the metrics need (large packs)")
    p.add_argument("--as-of", default=None, type=_as_of_arg)
    p.add_argument("--definitions", action="store_true", help="print the metric registry as Markdown")
    _frameworks_option(p)
    _engine_option(p)
    p.set_defaults(func=_cmd_metrics)

    p = sub.add_parser(
        "questionnaire", help="write a blank audit questionnaire, or one pre-filled from a previous run (.csv/.xlsx)"
    )
    p.add_argument("--audit", required=True, help="safety_by_design, child_safety or accessibility")
    p.add_argument("--cycle", required=True, type=_cycle_arg, help="the cycle it is for, e.g. 2026-H1 or latest")
    p.add_argument("--from-previous", default=None, metavar="RUN", help="previous run folder or questionnaire file")
    p.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    _frameworks_option(p)
    p.set_defaults(func=_cmd_questionnaire)

    p = sub.add_parser("run", help="run a reporting cycle: validate, execute the notebooks, render offline HTML")
    p.add_argument(
        "--cycle", required=True, type=_cycle_arg, help="2025-H1, 2025-H2, 2025, latest (half-year) or latest-year"
    )
    p.add_argument("--data", help="data pack folder (default: $RISKKIT_DATA)")
    p.add_argument("--out", default="reports", help="reports folder (default: reports/)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these notebooks (name or number, e.g. 01 03)")
    p.add_argument("--jobs", type=_whole(1), default=None, help="notebooks run in parallel (default: CPU cores)")
    p.add_argument(
        "--as-of",
        default=None,
        type=_as_of_arg,
        help="judge 'latest' at this instant instead of now (ISO, with offset)",
    )
    p.add_argument("--timeout", type=_whole(1), default=900, help="seconds a notebook cell may take (default 900)")
    p.add_argument("--notebooks", default=None, help="notebooks folder (default: the notebooks shipped with riskkit)")
    _frameworks_option(p)
    p.add_argument("--quiet", action="store_true", help="print only the path of index.html")
    p.add_argument("--pdf", action="store_true", help="also print every report to an A4 PDF (Debian chromium)")
    p.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="report on a cycle that ends after the data's as-of (every page then says the data is incomplete)",
    )
    p.add_argument(
        "--publication-date",
        metavar="YYYY-MM-DD",
        help="the date printed on the public annual report of a year run (default: the run's date in Malaysia)",
    )
    _engine_option(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("pdf", help="print the reports of an existing run to A4 PDFs")
    p.add_argument("run", help="a run folder, e.g. reports/2026-H1/latest")
    p.set_defaults(func=_cmd_pdf)

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
    _frameworks_option(d)
    d.set_defaults(func=_cmd_import_dsa)

    p = sub.add_parser("export", help="export a regulator's template filled from a data pack")
    templates = p.add_subparsers(dest="template", required=True, metavar="TEMPLATE")
    d = templates.add_parser(
        "dsa-transparency",
        help="EU DSA harmonised transparency report (IR 2024/2835): CSV parts, XLSX, coverage.csv, review HTML",
    )
    d.add_argument("--data", required=True, help="data pack folder")
    d.add_argument(
        "--cycle",
        required=True,
        type=_cycle_arg,
        help="2026-H1, 2026-H2 (VLOPs, VLOSEs), 2026 (other providers), latest",
    )
    d.add_argument("--out", required=True, help="folder to create (refused if not empty, unless --overwrite)")
    d.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    d.add_argument("--publication-date", metavar="YYYY-MM-DD", help="the report's publication date")
    d.add_argument(
        "--previous-publication-date", metavar="YYYY-MM-DD", help="the previous report's (blank for a first report)"
    )
    _frameworks_option(d)
    d.set_defaults(func=_cmd_export_dsa)

    p = sub.add_parser("frameworks", help="list the framework library (ids, versions, kinds, packaged or custom)")
    _frameworks_option(p)
    p.add_argument("--json-schema", action="store_true", help="print the JSON Schema of every framework kind")
    p.set_defaults(func=_cmd_frameworks)

    p = sub.add_parser("cycle", help="show a reporting cycle's bounds in Malaysian time (e.g. 2025-H2, 2025, latest)")
    p.add_argument("cycle", type=_cycle_arg)
    p.add_argument(
        "--as-of",
        default=None,
        type=_as_of_arg,
        help="for 'latest': the instant to judge completeness at (default now)",
    )
    p.set_defaults(func=_cmd_cycle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors (2, message printed), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    if args.command == "sample":
        from riskkit import sample

        args.actions = sample.DEFAULT_ACTIONS if args.actions is None else args.actions
        args.seed = sample.DEFAULT_SEED if args.seed is None else args.seed
    from riskkit.interrupts import sigterm_raises

    try:
        with sigterm_raises():
            return int(args.func(args))
    except Interrupted as exc:
        print(f"riskkit: interrupted ({signal.Signals(exc.signum).name})", file=sys.stderr)
        return exc.exit_code
    except InvalidDataPack as exc:
        print(exc.report.format(max_per_kind=getattr(args, "max_per_kind", 10)), file=sys.stderr)
        return EXIT_INVALID
    except RunFailed as exc:
        print(f"riskkit: run failed: {printable(str(exc))}", file=sys.stderr)
        if exc.result is not None:
            print(exc.result.index)
        return exc.exit_code
    except RiskkitError as exc:
        print(f"riskkit: error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("riskkit: interrupted (SIGINT)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
