"""Run a reporting cycle: validate, execute the cycle's notebooks with papermill, render offline HTML, write a manifest.

A run is built in a hidden ``.partial-*`` folder next to the others and moved into place in one rename:
``reports/<cycle>/<run date>[-N]/`` when every notebook succeeded (then ``reports/<cycle>/latest`` points to it),
``reports/<cycle>/failed-<timestamp>/`` otherwise. Earlier runs are never touched:

- Ctrl-C (SIGINT) or SIGTERM stops the running kernels at once, removes the ``.partial-*`` folder and raises
  KeyboardInterrupt / :class:`~riskkit.exceptions.Interrupted` (the CLI exits 130 / 143);
- a write that fails (disk full, a file system gone read-only) removes the ``.partial-*`` folder and raises
  :class:`~riskkit.exceptions.WriteFailed` (exit 1);
- kill -9 leaves only the ``.partial-*`` folder (it can be deleted);
- a real folder or file named ``latest`` (not riskkit's link) is never replaced or deleted: the run is refused.
"""

from __future__ import annotations

import contextlib
import errno
import html
import json
import logging
import os
import platform
import shutil
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from riskkit import __version__, resources, schema
from riskkit.arrays import release_arrow_memory
from riskkit.cycles import REPORTING_TZ, Cycle, check_covered, parse_instant, resolve
from riskkit.engines.packs import load_any
from riskkit.evaluate import audit_title, evaluate
from riskkit.exceptions import Interrupted, ParameterError, RunFailed, WriteFailed
from riskkit.interrupts import stoppable
from riskkit.library import Library, load_library
from riskkit.paths import writable_folder
from riskkit.reports.exports import write_exports, write_records
from riskkit.reports.public_folder import FOLDER, write_public_folder
from riskkit.reports.wording import load_wording
from riskkit.result import RESULT_DIR, CycleResult

log = logging.getLogger(__name__)

KERNEL = "python3"
DEFAULT_TIMEOUT = 900  # seconds per cell
PACKAGES = ("pandas", "numpy", "pyarrow", "plotly", "papermill", "nbconvert", "nbclient", "ipykernel", "openpyxl")


@dataclass
class NotebookRun:
    """Outcome of one notebook."""

    name: str
    group: str = "Reports"
    status: str = "pending"  # succeeded | failed | pending
    seconds: float = 0.0
    notebook: str = ""
    html: str = ""
    html_bytes: int = 0
    error: str = ""
    title: str = ""


@dataclass
class RunResult:
    """What `riskkit run` did."""

    cycle: str
    status: str
    folder: Path
    index: Path
    notebooks: list[NotebookRun] = field(default_factory=list)
    exit_code: int = 0


@dataclass(frozen=True)
class NotebookJob:
    """One notebook execution: the source notebook, the output name, its extra parameters and its title."""

    source: Path
    name: str
    group: str
    title: str
    parameters: dict[str, str] = field(default_factory=dict)


def notebooks_for(cycle: Cycle, folder: Path, library: Library, only: Sequence[str] | None = None) -> list[NotebookJob]:
    """The cycle's notebook executions in reading order.

    ``NN_*.ipynb`` whose metadata ``riskkit.cycle_kinds`` includes the cycle's kind (default: half-years); a notebook
    with ``riskkit.per: audit`` runs once per checklist of the library. ``only`` filters by name or number prefix."""
    import nbformat

    jobs: list[NotebookJob] = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata.get("riskkit", {})
        if cycle.kind not in meta.get("cycle_kinds", ["half"]):
            continue
        group = str(meta.get("group", "Reports"))
        if meta.get("per") == "audit":
            for audit in library.checklists():
                title = audit_title(library, audit)
                jobs.append(NotebookJob(path, f"{path.stem}_{audit}", group, title, {"audit": audit}))
        elif meta.get("per") == "language":
            words = load_wording()
            for lang in words.languages:
                title = f"{words.t('title', lang)} ({words.t('language_name', lang)})"
                jobs.append(NotebookJob(path, f"{path.stem}_{lang}", group, title, {"language": lang}))
        else:
            jobs.append(NotebookJob(path, path.stem, group, str(meta.get("title") or _title(path))))
    if only:
        wanted = [w.removesuffix(".ipynb") for w in only]

        def matches(job: NotebookJob, w: str) -> bool:
            return job.name == w or job.name.startswith(w + "_") or job.name[:2] == w

        missing = [w for w in wanted if not any(matches(j, w) for j in jobs)]
        if missing:
            raise ParameterError(f"--only: no notebook for {cycle.kind} cycles matches {', '.join(missing)}")
        jobs = [j for j in jobs if any(matches(j, w) for w in wanted)]
    if not jobs:
        raise ParameterError(f"no notebooks for {cycle.kind} cycles in {folder}")
    return jobs


#: Errors of a write that cannot succeed by retrying the notebook: the run cannot be written at all.
_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class _RunGuard:
    """The faults of a run being written into ``partial``.

    SIGINT / SIGTERM: the kernels it started are killed at once (not after their cells finish), notebooks not yet
    started are cancelled, the partial folder is removed, and the interrupt goes on to the caller. A write that
    cannot succeed (disk full, read-only file system): the same clean-up, then :class:`WriteFailed` (exit 1)."""

    def __init__(self, partial: Path) -> None:
        self.partial = partial
        self.stopping = threading.Event()
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Future] = []
        self.kernels: list[Any] = []  # the jupyter_client kernel managers of this run
        self.manager = _tracked_kernel_manager(self)

    _active: ClassVar[dict[Path, _RunGuard]] = {}

    @classmethod
    def of(cls, partial: Path) -> _RunGuard | None:
        """The guard of the run being written into ``partial`` (the notebooks' threads find it by their folder)."""
        return cls._active.get(partial)

    def __enter__(self) -> _RunGuard:
        self._active[self.partial] = self
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        self._active.pop(self.partial, None)
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            self.stop()
        elif isinstance(exc, OSError):
            self.stop()
            what = "could not be written" if exc.errno in _CANNOT_WRITE else "stopped on a file error"
            where = f" ({exc.filename})" if exc.filename else ""
            raise WriteFailed(
                f"the run {what}: {exc.strerror or exc}{where}; the unfinished run was removed and earlier runs are "
                "untouched"
            ) from None
        return False

    def stop(self) -> None:
        """Kill the kernels, cancel what has not started, wait briefly for the workers, remove the partial run."""
        self.stopping.set()
        quiet = logging.getLogger("papermill")  # "Kernel died while waiting…": the interrupt says it in one line
        was = quiet.disabled
        quiet.disabled = True
        self.kill_kernels()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            wait_for(self.futures, timeout=15)  # a worker ends within about a second of its kernel's death
        quiet.disabled = was
        for _ in range(3):  # a worker may still be writing into it: try again
            shutil.rmtree(self.partial, ignore_errors=True)
            if not self.partial.exists():
                break
            time.sleep(0.2)

    def kill_kernels(self) -> None:
        for km in list(self.kernels):
            process = getattr(getattr(km, "provisioner", None), "process", None)
            if process is None or process.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if hasattr(os, "killpg") and os.getpgid(process.pid) == process.pid:
                    os.killpg(process.pid, signal.SIGKILL)  # the kernel and anything its cells started
                else:
                    process.kill()


def _tracked_kernel_manager(guard: _RunGuard) -> type:
    """A kernel manager class that records every kernel it launches in ``guard`` (killed there on interrupt)."""
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            guard.kernels.append(self)
            if guard.stopping.is_set():  # launched while the run was being stopped
                guard.kill_kernels()

    return RunKernelManager


@stoppable
def run_cycle(
    data: str | Path,
    cycle: str,
    *,
    out: str | Path = "reports",
    only: Sequence[str] | None = None,
    jobs: int | None = None,
    as_of: str | None = None,
    notebooks_dir: str | Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool = True,
    on_event: Callable[[str], None] | None = None,
    library: Library | None = None,
    frameworks: Sequence[str | Path] = (),
    allow_incomplete: bool = False,
    pdf: bool = False,
    publication_date: str | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> RunResult:
    """Validate the pack (nothing runs if it is invalid), evaluate the cycle once, then execute and render every
    notebook of the cycle over the saved result.

    ``cycle`` may be ``latest``: the latest complete cycle as of ``as_of`` (default: now in Malaysia). The library
    is ``library``, else the packaged one with ``frameworks`` (folders or files of your own) applied.
    ``as_of`` replaces the pack's own as-of everywhere (validation, completeness, the reports). A cycle that ends
    after the data's as-of is refused unless ``allow_incomplete`` (then every page says the data is incomplete);
    an ``only`` or incomplete run is marked partial and never becomes ``latest``. ``publication_date``
    (``YYYY-MM-DD``, default: the run's date in Malaysia) is printed on the public report of a year run.
    ``engine`` (``duckdb``, ``spark``; ``spark_master``) opens the pack on an engine: its event tables are read
    and aggregated there (a warehouse pack always uses its own source). Raises :class:`RunFailed` (exit 1) after
    moving a failed run to ``failed-<timestamp>``.
    """
    say = on_event or (lambda _msg: None)
    started = datetime.now(UTC)
    stamp = parse_instant(as_of) if as_of else None
    published = _day(publication_date) if publication_date else started.astimezone(REPORTING_TZ).date()
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ParameterError(f"--timeout must be a whole number of seconds, at least 1, got {timeout!r}")
    writable_folder(out, "--out")  # a file, a read-only or uncreatable folder: refused before anything runs
    lib = library if library is not None else load_library(frameworks)
    data_path = Path(data).resolve()
    # InvalidDataPack (exit 2) before anything is written
    pack = load_any(data_path, library=lib, engine=engine, as_of=stamp, spark_master=spark_master)
    # 'latest' is judged now in Malaysia, but never past the data's extraction: a report on a cycle the data
    # does not cover would look complete and be wrong.
    judged_at = stamp if stamp is not None else min(pd.Timestamp.now(tz=REPORTING_TZ), pack.meta.as_of)
    cyc = check_covered(resolve(cycle, as_of=judged_at), pack.data_start(), pack.meta.as_of, asked=str(cycle))
    incomplete = ""
    if not cyc.is_complete(pack.meta.as_of):
        data_date = f"{pack.meta.as_of.tz_convert(REPORTING_TZ):%-d %b %Y %H:%M} MYT"
        if not allow_incomplete:
            raise ParameterError(
                f"{cyc.id} ends on {cyc.last_day:%-d %b %Y} but the data is as of {data_date}: the cycle is not "
                "complete. Choose an earlier cycle, or pass --allow-incomplete to report on part of it"
            )
        incomplete = f"The data is as of {data_date}, before {cyc.id} ended ({cyc.last_day:%-d %b %Y}): it covers the cycle only in part."
    partial_run = bool(only) or bool(incomplete)
    nb_dir = Path(notebooks_dir) if notebooks_dir else resources.notebooks_dir()
    books = notebooks_for(cyc, nb_dir, lib, only)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(books)))
    root = Path(out).resolve() / cyc.id
    latest = root / "latest"
    if not partial_run and latest.exists() and not latest.is_symlink():
        kind = "folder" if latest.is_dir() else "file"
        raise ParameterError(
            f"{latest} is a real {kind}, not riskkit's link to the latest run; riskkit never replaces or deletes it: "
            "move or rename it, then run again"
        )
    root.mkdir(parents=True, exist_ok=True)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    partial = root / f".partial-{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with _RunGuard(partial) as guard:
        partial.mkdir()
        say(f"running {cyc.id} ({cyc.label}) for {pack.meta.platform_name}: {len(books)} notebook(s), {jobs} at a time")

        previous = root.parent / cyc.previous().id / "latest"
        previous_result = previous if (previous / RESULT_DIR).is_dir() else None
        t0 = time.perf_counter()
        result = evaluate(pack, cyc, library=lib, previous=previous_result)
        result_dir = result.save(partial)
        write_exports(result, partial, {"run_id": run_id, "run_started": started.isoformat(timespec="seconds")})
        if cyc.kind == "half":
            write_records(pack, cyc, partial)
        evaluated = round(time.perf_counter() - t0, 2)
        warnings = list(result.scalars["warnings"])
        for w in warnings:
            say(f"warning: {w}")
        del pack  # the notebooks read the saved result; free the pack's memory before the kernels start
        release_arrow_memory()

        as_of_text = pd.Timestamp(result.scalars["as_of"]).strftime("%-d %b %Y, %H:%M (MYT)")
        context = {
            "run_id": run_id,
            "run_started": started.isoformat(timespec="seconds"),
            "platform": result.scalars["platform"]["name"],
            "cycle": cyc.id,
            "cycle_kind": cyc.kind,
            "period": cyc.label,
            "as_of": as_of_text,
            "as_of_iso": result.scalars["as_of"],
            "publication_date": published.isoformat(),
            "draft": not result.scalars["sign_off"]["signed"],
            "incomplete": incomplete,
            "warnings": warnings,
            "riskkit_version": __version__,
            "frameworks": lib.versions(),
            "inputs": result["inputs"].astype(object).where(result["inputs"].notna(), None).to_dict("records"),
        }
        params = {
            "data_path": str(data_path),
            "cycle": cyc.id,
            "as_of": "" if as_of is None else str(as_of),
            "previous_run": str(previous.resolve()) if previous_result else "",
        }
        results = [NotebookRun(b.name, b.group, title=b.title) for b in books]

        def execute(i: int) -> None:
            results[i] = _execute(books[i], partial, {"result_dir": str(result_dir)}, context, timeout, progress, i)
            if not guard.stopping.is_set():
                say(f"  {results[i].name}: {results[i].status} in {results[i].seconds:.1f} s")

        guard.pool = ThreadPoolExecutor(max_workers=jobs)
        guard.futures = [guard.pool.submit(execute, i) for i in range(len(books))]
        for future in guard.futures:
            future.result()
        guard.pool.shutdown()

        failed = [r for r in results if r.status != "succeeded"]
        status = "failed" if failed else "succeeded"
        public_pages = {
            b.parameters["language"]: partial / r.html
            for b, r in zip(books, results, strict=True)
            if "language" in b.parameters and r.html
        }
        if cyc.kind == "year" and public_pages and not failed:
            write_public_folder(partial, result, public_pages, published)
            say("  public/ written: the public report and its disclosed tables, nothing else")
        pdfs: list[str] = []
        if pdf and not failed:
            from riskkit.documents.run_pdfs import write_run_pdfs

            (partial / "manifest.json").write_text(  # what the PDF step reads (the final manifest follows)
                json.dumps(
                    {
                        "platform": context["platform"],
                        "cycle": cyc.id,
                        "run_id": run_id,
                        "notebooks": [asdict(r) for r in results],
                    }
                ),
                encoding="utf-8",
            )
            pdfs = [p.relative_to(partial).as_posix() for p in write_run_pdfs(partial)]
            say(f"  {len(pdfs)} PDF(s) printed")
        manifest = _manifest(context, params, cyc, results, status, started, jobs, timeout, lib)
        manifest["warnings"] = warnings
        manifest["partial"] = partial_run
        manifest["pdfs"] = pdfs
        manifest["incomplete"] = incomplete
        manifest["publication_date"] = published.isoformat()
        manifest["public"] = sorted(
            p.relative_to(partial).as_posix() for p in (partial / FOLDER).rglob("*") if p.is_file()
        )
        manifest["evaluation"] = {"seconds": evaluated, "pack_reads": 1, "evaluations": 1, "result": RESULT_DIR}
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        (partial / "index.html").write_text(_index_html(manifest, partial), encoding="utf-8")

        if failed:
            final = _move_into_place(partial, root / f"failed-{run_id}")
            run = RunResult(cyc.id, status, final, final / "index.html", results, 1)
            raise RunFailed(
                f"{len(failed)} notebook(s) failed ({', '.join(r.name for r in failed)}); run kept at {final}; "
                f"'latest' unchanged",
                result=run,
            )
        name = datetime.now(REPORTING_TZ).strftime("%Y-%m-%d") + ("-partial" if partial_run else "")
        final = _move_into_place(partial, root / name)
        if partial_run:
            say(f"partial run ({'--only' if only else 'incomplete data'}): 'latest' is unchanged")
        elif not _point_latest(root, final):
            say(f"warning: {root / 'latest'} is not riskkit's link (a real folder or file): left as it is, not updated")
        return RunResult(cyc.id, status, final, final / "index.html", results, 0)


def _day(text: str) -> date:
    """``--publication-date`` as a calendar date (exit 2 otherwise)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ParameterError(f"--publication-date {text!r} is not a date: give YYYY-MM-DD, e.g. 2027-03-31") from None


def open_result(run_folder: str | Path) -> CycleResult:
    """The saved result of a run folder (``reports/<cycle>/latest``, a dated run, or its ``result/``)."""
    return CycleResult.load(run_folder)


def _execute(
    job: NotebookJob,
    folder: Path,
    params: dict[str, str],
    context: dict[str, Any],
    timeout: int,
    progress: bool,
    i: int,
) -> NotebookRun:
    import nbformat
    import papermill as pm

    run = NotebookRun(job.name, job.group, title=job.title)
    out_nb = folder / f"{job.name}.ipynb"
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(
            str(job.source),
            str(out_nb),
            parameters={**params, **job.parameters},
            kernel_name=KERNEL,
            # no cwd=: papermill implements it with a process-wide chdir, which races between parallel notebooks;
            # every path given to the notebooks is absolute instead
            execution_timeout=timeout,
            progress_bar={"desc": job.name[:32], "position": i, "leave": True} if progress else False,
            log_output=False,
            # the kernel's own log: errors only (its transport warning would reach every cron mail)
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            **({"kernel_manager_class": guard.manager} if (guard := _RunGuard.of(folder)) is not None else {}),
        )
        run.status = "succeeded"
    except OSError as exc:
        if exc.errno in _CANNOT_WRITE:
            raise  # the run cannot be written: the run's guard cleans up (WriteFailed)
        run.status = "failed"
        run.error = f"{type(exc).__name__}: {exc}"[:500]
    except Exception as exc:  # papermill raises PapermillExecutionError, or kernel/timeout errors
        run.status = "failed"
        if hasattr(exc, "ename"):
            run.error = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"[:500]
        else:
            run.error = f"{type(exc).__name__}: {exc}"[:500]
    run.seconds = round(time.perf_counter() - t0, 2)
    if out_nb.exists():
        run.notebook = out_nb.name
        try:
            nb = nbformat.read(out_nb, as_version=4)
        except OSError:
            raise
        except Exception as exc:  # a notebook cut short (the kernel or the disk failed while it was written)
            run.status = "failed"
            problem = f"the executed notebook could not be read back ({type(exc).__name__})"
            run.error = ((run.error + "; ") if run.error else "") + problem
            return run
        page = {**nb.metadata.get("riskkit", {}), **context, "title": job.title, "status": run.status}
        lang = job.parameters.get("language", "en")
        page.update(_page_words(lang, page))
        if _has_figures(nb):
            from riskkit.documents.plotly_bundle import plotly_js

            page["plotly_js"] = plotly_js()  # for rendering only: the saved notebook keeps figure JSON alone
        nb.metadata["riskkit"] = page
        nb.metadata["title"] = f"{job.title} — {context['platform']} — {context['cycle']}"
        try:
            html_path = folder / f"{job.name}.html"
            html_path.write_text(render_html(nb, lang), encoding="utf-8")
            run.html, run.html_bytes = html_path.name, html_path.stat().st_size
        except Exception:  # a rendering failure must not hide the notebook's own outcome
            run.status = "failed"
            run.error = (
                (run.error + "; " if run.error else "") + "HTML rendering failed: " + traceback.format_exc(limit=1)
            )
    return run


def _has_figures(nb: Any) -> bool:
    return any(
        "rk-figure-" in str(out.get("data", {}).get("text/html", ""))
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )


def _title(path: Path) -> str:
    """A notebook without ``riskkit.title`` metadata is titled by its file name (``03_mcmc_report`` → Mcmc report)."""
    words = path.stem.split("_", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:]


def _page_words(lang: str, page: dict[str, Any]) -> dict[str, Any]:
    """The page template's own words in ``lang``; a public page also gets its publication date and plain title."""
    words = load_wording()
    out: dict[str, Any] = {
        "lang": lang,
        "labels": {k: words.t(k, lang) for k in ("contents", "data_as_of", "published", "draft", "incomplete")},
    }
    if page.get("public"):
        out["title"] = words.t("title", lang)
        published = page.get("publication_date")
        if published:
            out["published"] = words.date(date.fromisoformat(published), lang)
        if page.get("as_of_iso"):
            out["as_of"] = words.date(pd.Timestamp(page["as_of_iso"]).date(), lang)
        if page.get("cycle_kind") == "year":
            out["period"] = words.t("year_period", lang, year=page["cycle"])
    return out


def render_html(nb: Any, lang: str = "en") -> str:
    """Self-contained HTML without code cells, through riskkit's template, declared in ``lang``."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="riskkit", extra_template_basedirs=[str(resources.templates_dir())], language_code=lang
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    return body


def _manifest(
    context: dict[str, Any],
    params: dict[str, str],
    cycle: Cycle,
    results: list[NotebookRun],
    status: str,
    started: datetime,
    jobs: int,
    timeout: int,
    library: Library,
) -> dict[str, Any]:
    finished = datetime.now(UTC)
    versions = {"python": platform.python_version(), "riskkit": __version__}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "riskkit_manifest": 1,
        "run_id": context["run_id"],
        "status": status,
        "exit_code": 0 if status == "succeeded" else 1,
        "cycle": cycle.id,
        "period": {"label": cycle.label, "start": cycle.start.isoformat(), "end_exclusive": cycle.end.isoformat()},
        "platform": context["platform"],
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 2),
        "parameters": {**params, "output_dir": "<this folder>"},
        "jobs": jobs,
        "cell_timeout_seconds": timeout,
        "inputs": context["inputs"],
        "frameworks": library.describe().to_dict("records"),
        "data_contract": schema.CONTRACT_VERSION,
        "versions": versions,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "notebooks": [asdict(r) for r in results],
    }


def _index_html(manifest: dict[str, Any], folder: Path) -> str:
    e = html.escape
    rows = []
    group = None
    for nb in manifest["notebooks"]:
        if nb["group"] != group:
            group = nb["group"]
            rows.append(f'<tr><th colspan="5" class="group">{e(group)}</th></tr>')
        link = f'<a href="{e(nb["html"])}">{e(nb["name"])}</a>' if nb["html"] else e(nb["name"])
        raw = f'<a href="{e(nb["notebook"])}">.ipynb</a>' if nb["notebook"] else ""
        rows.append(
            f'<tr><td>{link}</td><td class="st-{e(nb["status"])}">{e(nb["status"])}</td><td>{nb["seconds"]:.1f} s</td>'
            f"<td>{raw}</td><td>{e(nb['error'])}</td></tr>"
        )
    exports = sorted(
        p.name for p in folder.iterdir() if p.suffix in (".csv", ".xlsx", ".parquet", ".json") and p.is_file()
    )
    if "manifest.json" not in exports:
        exports.append("manifest.json")
    export_rows = "".join(f'<li><a href="{e(x)}">{e(x)}</a></li>' for x in sorted(exports))
    inputs = "".join(
        f"<tr><td>{e(i['file'])}</td><td>{_count(i['rows'])}</td><td>{_digest(i['sha256'])}</td></tr>"
        for i in manifest["inputs"]
    )
    fw = ", ".join(
        f"{e(f['id'])} {e(f['version'])}" + (" (custom)" if f["origin"] == "custom" else "")
        for f in manifest["frameworks"]
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(manifest["platform"])} — {e(manifest["cycle"])} — riskkit run {e(manifest["run_id"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #263238; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }}
td, th {{ border: 1px solid #cfd8dc; padding: 4px 8px; text-align: left; }}
th.group {{ background: #eceff1; font-size: 1.02em; }}
.st-succeeded {{ color: #2e7d32; font-weight: bold; }} .st-failed {{ color: #c62828; font-weight: bold; }}
.status-failed {{ background: #ffebee; padding: 0.5em 1em; border-left: 4px solid #c62828; }}
code {{ font-size: 0.85em; }}
section.public {{ border: 2px solid #1565c0; padding: 0 1em 0.5em; margin: 1em 0; }}
</style></head><body>
<h1>{e(manifest["platform"])} — {e(manifest["cycle"])}</h1>
<p>{e(manifest["period"]["label"])} · run {e(manifest["run_id"])} · riskkit {e(manifest["versions"]["riskkit"])} ·
<span class="st-{e(manifest["status"])}">{e(manifest["status"])}</span></p>
{'<p class="status-failed">This run failed: the reports below may be incomplete. The last good run is unchanged.</p>' if manifest["status"] != "succeeded" else ""}
<h2>Reports</h2>
<table><tr><th>notebook</th><th>status</th><th>time</th><th>executed notebook</th><th>error</th></tr>{"".join(rows)}</table>
{_public_section(manifest)}
<h2>Exports</h2><ul>{export_rows}</ul>
<h2>Inputs</h2><table><tr><th>file</th><th>rows</th><th>SHA-256</th></tr>{inputs}</table>
<h2>Frameworks</h2><p>{fw}</p>
</body></html>
"""


def _public_section(manifest: dict[str, Any]) -> str:
    """The index's list of what may be published, apart from everything else."""
    files = manifest.get("public") or []
    if not files:
        return ""
    e = html.escape
    items = "".join(f'<li><a href="{e(f)}">{e(f.removeprefix(FOLDER + "/"))}</a></li>' for f in files)
    return (
        '<section class="public" aria-labelledby="public-h"><h2 id="public-h">For publication: public/</h2>'
        "<p><strong>Only the files in <code>public/</code> may be published.</strong> Everything else in this run "
        "— the other reports, the exports, the executed notebooks, the inputs below — is internal: it holds counts "
        "below the disclosure threshold, identifiers and provenance.</p>"
        f"<ul>{items}</ul></section>"
    )


def _digest(sha256: str | None) -> str:
    """An input's SHA-256 in the index; a warehouse table has none (its rows are stated)."""
    return f"<code>{html.escape(sha256)}</code>" if sha256 else "warehouse table (no file to hash)"


def _count(rows: int | None) -> str:
    return "" if rows is None else f"{rows:,}"


def _free(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``… — a second run on the same date never overwrites the first."""
    if not path.exists():
        return path
    n = 2
    while path.with_name(f"{path.name}-{n}").exists():
        n += 1
    return path.with_name(f"{path.name}-{n}")


def _move_into_place(partial: Path, wanted: Path) -> Path:
    """Rename ``partial`` to ``wanted`` or the next free ``wanted-N``, in one rename. Two runs finishing at once
    may pick the same free name: the rename that loses (the name now exists) tries the next one, never replaces."""
    for _ in range(1000):
        final = _free(wanted)
        try:
            final.mkdir()  # claim the name: mkdir fails if another run took it meanwhile
        except FileExistsError:
            continue
        try:
            partial.rename(final)  # onto the empty folder just claimed
        except BaseException:  # a failed rename, or an interrupt between the claim and the rename
            with contextlib.suppress(OSError):
                final.rmdir()
            raise
        return final
    raise WriteFailed(f"no free folder name for the run next to {wanted}")


def _point_latest(root: Path, final: Path) -> bool:
    """Atomically repoint ``root/latest`` to ``final`` (relative symlink; a text file where links are unsupported).

    False, and nothing touched, when ``latest`` is a real folder or file (a person's, never riskkit's). The
    temporary link never outlives the call, and links left by runs killed here (``kill -9``) are swept."""
    link = root / "latest"
    if link.exists() and not link.is_symlink():
        return False
    _sweep_latest_links(root)
    tmp = root / f".latest-{os.getpid()}-{threading.get_ident()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(final.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        (root / "LATEST").write_text(final.name + "\n", encoding="utf-8")
    finally:
        if tmp.is_symlink():
            tmp.unlink()
    return True


def _sweep_latest_links(root: Path) -> None:
    """Remove ``.latest-<pid>-<thread>`` links whose process is gone."""
    for stray in root.glob(".latest-*"):
        pid = stray.name.removeprefix(".latest-").split("-")[0]
        if not stray.is_symlink() or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            stray.unlink(missing_ok=True)
        except PermissionError:  # another user's live process
            continue
