"""Fuzzing the front door (issue 19, item 7): random mutations of a small pack's datapack.yaml and tables, and random
command lines, must end in exit 0 or 2 with a message — never a traceback, never another exit code.

In-process (``riskkit.cli.main``) and bounded (a few dozen examples each, no deadline per example) so it runs in
seconds in ``make test``; ``RISKKIT_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` hunts longer. Kernels are replaced by an instant success: the notebooks are not what is fuzzed here."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packs import BASE_META, base_tables, make_pack, write_csv
from riskkit.cli import main

FUZZ = settings(
    max_examples=int(os.environ.get("RISKKIT_FUZZ_EXAMPLES", "30")),  # e.g. 5000 for a long hunt
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)

_counter = itertools.count()

# -------------------------------------------------------------------------------------------------- values

#: Texts a careless user or an attacker writes: control characters, bidi overrides, formulas, huge and odd numbers,
#: dates out of range, path tricks.
NASTY = [
    "",
    " ",
    "\x1b[2J",
    "\u202eevil",
    '=HYPERLINK("x")',
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1",
    "0",
    "9007199254740993",
    "18446744073709551616",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "1999-12-31T23:59:59+08:00",
    "2025-02-30T10:00:00+08:00",
    "2025-07-01T10:00:00",
    "2025-13",
    "../../etc/passwd",
    "/etc/passwd",
    "true",
    "yes",
    "csam",
    "feed",
    "a;b;;c",
    "\x00",
    "é" * 300,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY),
    st.text(max_size=20),
    st.dates().map(str),
)
yaml_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(["name", "start", "x", "hours"]), children)
    ),
    max_leaves=6,
)
cells = st.one_of(st.sampled_from(NASTY), st.text(max_size=12), st.integers().map(str), st.floats().map(repr))

YAML_KEYS = [
    ("contract",),
    ("platform",),
    ("platform", "name"),
    ("platform", "service_type"),
    ("platform", "licence_id"),
    ("as_of",),
    ("timezone",),
    ("tables",),
    ("tables", "actions"),
    ("tables", "users"),
    ("audits",),
    ("age_verified_unit",),
    ("time_basis",),
    ("time_resolution",),
    ("surfaces",),
    ("sla_overrides",),
    ("sla_overrides", "onsa.report_ack_1h"),
    ("targets",),
    ("high_risk_periods",),
    ("sign_off",),
    ("risk_overrides",),
    ("eu",),
    ("unknown_key",),
]


def _set(meta: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = meta
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


# -------------------------------------------------------------------------------------------------- mutations


@st.composite
def pack_mutations(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A few mutations of the baseline pack: datapack.yaml keys, raw YAML text, cells, headers, files."""
    tables = list(base_tables())
    kinds = st.sampled_from(["yaml_key", "yaml_text", "cell", "header", "file"])
    out = []
    for kind in draw(st.lists(kinds, min_size=1, max_size=3)):
        if kind == "yaml_key":
            out.append((kind, (draw(st.sampled_from(YAML_KEYS)), draw(yaml_values))))
        elif kind == "yaml_text":
            out.append((kind, draw(st.sampled_from(["&a x", "*a", "{", "- - -", "as_of: 1\nas_of: 2", "\t", "\x00"]))))
        elif kind == "cell":
            table = draw(st.sampled_from(tables))
            rows = base_tables()[table]
            out.append(
                (kind, (table, draw(st.integers(0, len(rows) - 1)), draw(st.sampled_from(list(rows[0]))), draw(cells)))
            )
        elif kind == "header":
            table = draw(st.sampled_from(tables))
            column = draw(st.sampled_from(list(base_tables()[table][0])))
            new = draw(st.sampled_from([column.upper(), f" {column} ", "", "\x1b[31m", "action_id", column + "x"]))
            out.append((kind, (table, column, new)))
        else:
            table = draw(st.sampled_from(tables))
            how = draw(st.sampled_from(["delete", "empty", "header_only", "binary", "parquet_garbage", "symlink_out"]))
            out.append((kind, (table, how)))
    return out


def apply(root: Path, mutations: list[tuple[str, Any]]) -> Path:
    """Write the baseline pack in a fresh folder under ``root`` and apply ``mutations``."""
    pack = root / f"p{next(_counter)}"
    meta = yaml.safe_load(yaml.safe_dump(BASE_META))
    tables = base_tables()
    headers: dict[str, list[str]] = {name: list(rows[0]) for name, rows in tables.items()}
    extra_yaml = ""
    files: list[tuple[str, str]] = []
    for kind, what in mutations:
        if kind == "yaml_key":
            _set(meta, *what)
        elif kind == "yaml_text":
            extra_yaml += "\n" + what + "\n"
        elif kind == "cell":
            table, row, column, value = what
            tables[table][row][column] = value
        elif kind == "header":
            table, column, new = what
            headers[table] = [new if h == column else h for h in headers[table]]
        else:
            files.append(what)
    make_pack(pack, meta={})
    for name, rows in tables.items():
        renamed = [{headers[name][i]: v for i, v in enumerate(row.values())} for row in rows]
        write_csv(pack / f"{name}.csv", renamed, header=list(dict.fromkeys(headers[name])))
    try:
        text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        text = "platform: {name: X}\n"
    (pack / "datapack.yaml").write_text(text + extra_yaml, encoding="utf-8")
    for table, how in files:
        file = pack / f"{table}.csv"
        if how == "delete":
            file.unlink(missing_ok=True)
        elif how == "empty":
            file.write_bytes(b"")
        elif how == "header_only":
            file.write_text(",".join(headers[table]) + "\n")
        elif how == "binary":
            file.write_bytes(b"\xff\xfe\x00garbage\x80")
        elif how == "parquet_garbage":
            file.unlink(missing_ok=True)
            (pack / f"{table}.parquet").write_bytes(b"PAR1 not really")
        else:
            file.unlink(missing_ok=True)
            file.symlink_to(root / "outside.csv")
    return pack


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``riskkit argv`` in-process: (exit code, everything printed). Any exception escapes: a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def fuzz_root(tmp_path_factory, monkeypatch):
    import riskkit.runner

    root = tmp_path_factory.mktemp("fuzz")
    (root / "outside.csv").write_text("secret,data\n1,2\n")
    monkeypatch.chdir(root)  # whatever a command writes by default lands here

    def instant(job, folder, params, context, timeout, progress, i):
        (folder / f"{job.name}.html").write_text("<html></html>", encoding="utf-8")
        return riskkit.runner.NotebookRun(job.name, job.group, "succeeded", 0.0, "", f"{job.name}.html", 13, "")

    monkeypatch.setattr(riskkit.runner, "_execute", instant)
    yield root
    shutil.rmtree(root, ignore_errors=True)


# -------------------------------------------------------------------------------------------------- the tests


@FUZZ
@given(mutations=pack_mutations())
def test_any_broken_pack_is_exit_0_or_2_with_a_message(fuzz_root, mutations):
    pack = apply(fuzz_root, mutations)
    code, printed = run_cli(["validate", str(pack)])
    assert code in (0, 2), printed
    assert "Traceback" not in printed and "\x1b" not in printed
    assert ("valid —" in printed) if code == 0 else ("INVALID" in printed)
    if code == 0:  # a valid pack must also compute
        code, printed = run_cli(["metrics", str(pack), "--cycle", "2025-H2"])
        assert code in (0, 2), printed
        assert "Traceback" not in printed


def _options(draw: st.DrawFn, choices: dict[str, st.SearchStrategy[list[str]]]) -> list[str]:
    """Some of the optional arguments, each drawn from its own strategy."""
    out: list[str] = []
    for name in draw(st.lists(st.sampled_from(list(choices)), max_size=3, unique=True)):
        out += draw(choices[name])
    return out


@st.composite
def command_lines(draw: st.DrawFn, root: Path) -> list[str]:
    """A command line shaped like a real one (so most reach riskkit, not only argparse), with odd values, and now
    and then stray tokens."""
    pack = st.sampled_from([root / "pack", root / "missing", root / "pack" / "actions.csv", root, root / "broken"])
    pack = pack.map(str)
    cycle = st.sampled_from(
        ["2025-H2", "2025", "latest", "latest-year", "2026-H1", "0000", "9999-H2", "1999", "2025-H3"]
    )
    as_of = st.sampled_from(
        [
            "2026-01-10T00:00:00+08:00",
            "2026-07-10T09:00:00Z",
            "yesterday",
            "2026-01-10T00:00:00",
            "1990-01-01T00:00:00Z",
        ]
    )
    number = st.sampled_from(["0", "-1", "1", "2", "x", "99999999999999999999"])
    out_dir = st.builds(lambda n: str(root / "out" / str(n)), st.integers(0, 3)) | st.sampled_from(
        [str(root / "pack"), str(root / "pack" / "actions.csv"), "/proc/x", str(root / "pack" / "actions.csv" / "x")]
    )
    out_file = st.sampled_from(["q.xlsx", "q.csv", "q.txt", "pack/actions.csv", "pack", "/proc/q.csv"]).map(
        lambda f: f if f.startswith("/") else str(root / f)
    )
    dump = st.sampled_from(["dump.csv", "empty.csv", "garbage.zip", "pack/actions.csv", "missing.csv", "dump.sha1"])
    dump = dump.map(lambda f: str(root / f))
    opt = lambda name, values: st.tuples(st.just(name), values).map(list)  # noqa: E731
    flag = lambda name: st.just([name])  # noqa: E731
    command = draw(
        st.sampled_from(["validate", "summary", "metrics", "cycle", "questionnaire", "run", "import", "export"])
    )
    if command in ("validate", "summary"):
        argv = [
            command,
            draw(pack),
            *_options(draw, {"as_of": opt("--as-of", as_of), "n": opt("--max-per-kind", number)}),
        ]
        if command == "summary":
            argv = [a for a in argv if a != "--max-per-kind"]
    elif command == "metrics":
        more = {"out": opt("--out", out_file), "as_of": opt("--as-of", as_of), "lean": flag("--lean")}
        argv = ["metrics", draw(pack), "--cycle", draw(cycle), *_options(draw, more)]
    elif command == "cycle":
        argv = ["cycle", draw(cycle), *_options(draw, {"as_of": opt("--as-of", as_of)})]
    elif command == "questionnaire":
        audit = st.sampled_from(["child_safety", "accessibility", "nope", ""])
        argv = ["questionnaire", "--audit", draw(audit), "--cycle", draw(cycle), "--out", draw(out_file)]
        argv += _options(draw, {"prev": opt("--from-previous", out_file | dump), "over": flag("--overwrite")})
    elif command == "run":
        argv = ["run", "--cycle", draw(cycle), "--data", draw(pack), "--out", draw(out_dir), "--quiet"]
        more = {
            "jobs": opt("--jobs", number),
            "timeout": opt("--timeout", number),
            "as_of": opt("--as-of", as_of),
            "only": opt("--only", st.sampled_from(["01", "03", "99", "04_public_annual_safety_report"])),
            "incomplete": flag("--allow-incomplete"),
            "published": opt("--publication-date", st.sampled_from(["2027-03-31", "31/03/2027", ""])),
        }
        argv += _options(draw, more)
    elif command == "import":
        argv = ["import", "dsa", draw(dump), "--out", draw(out_dir)]
        more = {
            "territory": opt("--territory", st.sampled_from(["all", "MY", "XX", ""])),
            "platform": opt("--platform", st.sampled_from(["all", "Contoh", ""])),
        }
        argv += _options(draw, more)
    else:
        argv = ["export", "dsa-transparency", "--data", draw(pack), "--cycle", draw(cycle), "--out", draw(out_dir)]
    if draw(st.integers(0, 4)) == 0:  # now and then, stray tokens
        argv += draw(st.lists(st.sampled_from(["--bogus", "\x1b[2J", "", "--cycle", *NASTY[:6]]), max_size=2))
    return argv


@pytest.fixture
def cli_root(fuzz_root):
    """fuzz_root with a valid pack, a broken pack and the inputs the import and the questionnaire may be given."""
    from dsa_fixtures import statement, write_dump

    make_pack(fuzz_root / "pack")
    apply(fuzz_root, [("cell", ("actions", 0, "category", "scam"))]).rename(fuzz_root / "broken")
    write_dump(fuzz_root / "dump.csv", [statement(i) for i in range(1, 4)])
    (fuzz_root / "empty.csv").write_bytes(b"")
    (fuzz_root / "garbage.zip").write_bytes(b"PK\x03\x04 garbage")
    (fuzz_root / "dump.sha1").write_text("0" * 40)
    return fuzz_root


@FUZZ
@given(data=st.data())
def test_any_command_line_is_exit_0_or_2_with_a_message(cli_root, data):
    argv = data.draw(command_lines(cli_root))
    code, printed = run_cli(argv)
    assert code in (0, 2), (argv, printed)
    assert "Traceback" not in printed, (argv, printed)
    assert "\x1b" not in printed, (argv, printed)  # echoed arguments are escaped too
    if code == 2:
        assert printed.strip(), f"exit 2 without a message: {argv}"


def test_the_fuzzers_reach_both_outcomes(fuzz_root):
    """Guard: the baseline is valid and a plain run succeeds, so the fuzz tests see exit 0 as well as exit 2."""
    pack = apply(fuzz_root, [])
    assert run_cli(["validate", str(pack)])[0] == 0
    code, printed = run_cli(["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(fuzz_root / "r")])
    assert code == 0, printed
    assert run_cli(["cycle", "0000"])[0] == 2
