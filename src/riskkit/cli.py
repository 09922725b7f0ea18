"""The ``riskkit`` command: a thin layer over the Python API.

Exit codes: 0 success; 1 a run executed but failed; 2 invalid input or parameters (nothing was executed or
written); 130 interrupted. Every error a user can cause is printed as one clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from riskkit import __version__
from riskkit.exceptions import InvalidDataPack, RiskkitError

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
