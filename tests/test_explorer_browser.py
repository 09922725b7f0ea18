"""The explorer in a real JupyterLab, driven by headless Chromium (Debian's, never a downloaded browser).

Starts JupyterLab on a free localhost port with a token over a temporary copy of ``notebooks/explore.ipynb`` (the
sample pack is linked beside it, so the notebook's ``../data/sample`` resolves), runs all cells from the Run menu,
waits for the plotly charts, picks a category in the selector and checks that the trend chart now shows exactly
what the model computes for that category, that no error output appeared, and saves a screenshot under
``test-artifacts/`` (and to ``docs/explore.png`` when ``RISKKIT_UPDATE_SCREENSHOT=1``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "riskkit-explorer-test"
CATEGORY = "financial_scam"
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

#: Drives chromium, runs the notebook in a real kernel, and takes tens of seconds.
pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]

if not CHROMIUM.exists():  # CI installs Debian's chromium (.ci/run); say so loudly rather than pass quietly
    pytest.skip(
        "BROWSER TEST NOT RUN: /usr/bin/chromium is missing — install Debian's chromium "
        "(apt-get install -y chromium) to run the JupyterLab explorer test",
        allow_module_level=True,
    )


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"JupyterLab not ready after {timeout:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab over a temporary copy of the notebook; always shut down (and its kernels) afterwards."""
    with running_lab(tmp_path) as running:
        yield running


@contextlib.contextmanager
def running_lab(tmp_path: Path) -> Iterator[Lab]:
    """Start JupyterLab in ``tmp_path``, wait until it answers, and shut it down on exit (also on failure)."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "explore.ipynb", tmp_path / "notebooks" / "explore.ipynb")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sample").symlink_to(ROOT / "data" / "sample", target_is_directory=True)
    home = tmp_path / "home"
    # user settings: start the notebook's kernel without asking, no news pop-up
    for plugin, settings in SETTINGS.items():
        file = home / "settings" / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(settings))
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    log = tmp_path / "jupyterlab.log"
    cmd = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={tmp_path / 'notebooks'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI and containers run as root
        cmd.append("--allow-root")
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _ready(url, 60, proc, log)
        yield Lab(url, TOKEN, tmp_path, log)
    finally:
        try:
            req = urllib.request.Request(f"{url}/api/shutdown?token={TOKEN}", method="POST")
            urllib.request.urlopen(req, timeout=5).close()
        except (urllib.error.URLError, OSError):
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own session: it and its kernels
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _kernel_idle(lab: Lab, timeout: float) -> None:
    """Wait until the notebook's kernel has started and is idle (the REST API, not the page, is the judge)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{lab.url}/api/kernels?token={lab.token}", timeout=2) as r:
                kernels = json.loads(r.read())
            if kernels and all(k.get("execution_state") == "idle" for k in kernels):
                return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"no idle kernel after {timeout:.0f} s:\n{lab.log.read_text(errors='replace')[-4000:]}")


def _run_all(page) -> None:
    """Run → Run All Cells from the menu, retried until the code cell is executing or done (a click that lands
    before the notebook panel is fully wired is ignored by JupyterLab)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    prompt = page.locator(".jp-CodeCell .jp-InputArea-prompt").first
    for _ in range(6):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        item = page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text="Run All Cells")
        try:
            item.first.click(timeout=5_000)
        except PlaywrightTimeout:  # menu not ready yet: close it and try again
            page.keyboard.press("Escape")
            time.sleep(1)
            continue
        try:
            page.wait_for_function(
                "(el) => !/\\[\\s*\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=10_000
            )
            return
        except PlaywrightTimeout:
            time.sleep(1)
    raise AssertionError("Run All Cells did not start the notebook")


def _shoot_explorer(page, path: Path) -> None:
    """Screenshot of the explorer from its title to the CSV button: the viewport is made tall enough to hold it and
    the notebook scrolled to the top, so nothing is cut by the notebook's own scrolling."""
    explorer = page.locator(".rk-explorer")
    if not explorer.count():
        return
    height = page.evaluate("() => document.querySelector('.rk-explorer').getBoundingClientRect().height")
    page.set_viewport_size({"width": 1280, "height": int(height) + 400})
    page.evaluate(
        "() => document.querySelectorAll('.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook')"
        ".forEach(e => { e.scrollTop = 0; })"
    )
    page.wait_for_timeout(500)
    top = explorer.first.bounding_box()
    bottom = page.locator(".rk-csv").first.bounding_box()
    if top is None or bottom is None:
        return
    clip = {
        "x": top["x"],
        "y": top["y"],
        "width": top["width"],
        "height": bottom["y"] + bottom["height"] + 8 - top["y"],
    }
    page.screenshot(path=str(path), clip=clip)


def _trend_y(page) -> list | None:
    return page.evaluate(
        """() => {
            const div = document.querySelector('.rk-trend .js-plotly-plot');
            return div && div.data && div.data[0] && div.data[0].y ? Array.from(div.data[0].y) : null;
        }"""
    )


def test_explorer_in_jupyterlab(lab: Lab, sample_pack, library) -> None:
    from playwright.sync_api import expect, sync_playwright

    from riskkit.explorer import ExplorerModel

    model = ExplorerModel(sample_pack, library=library)  # what the notebook's riskkit.explore("../data/sample") shows
    default = model.default_selection()
    chosen = replace(default, categories=(CATEGORY,))
    before_expected = model.trend(default).values
    after_expected = model.trend(chosen).values
    matching = int(model.mask(chosen).sum())
    assert before_expected != after_expected

    ARTIFACTS.mkdir(exist_ok=True)
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.set_default_timeout(60_000)
            try:
                page.goto(f"{lab.url}/lab/tree/explore.ipynb?token={lab.token}")
                page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
                _kernel_idle(lab, 60)
                page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()  # hide
                _run_all(page)

                for chart in ("rk-trend", "rk-tta", "rk-funnel"):
                    page.locator(f".{chart} .js-plotly-plot .main-svg").first.wait_for(timeout=90_000)
                page.wait_for_function(
                    "() => { const d = document.querySelector('.rk-trend .js-plotly-plot');"
                    " return d && d.data && d.data[0].y && d.data[0].y.length > 0; }"
                )
                before = _trend_y(page)
                assert before == pytest.approx(before_expected)

                page.locator(".rk-category select").select_option(CATEGORY)
                page.wait_for_function(
                    "(want) => { const d = document.querySelector('.rk-trend .js-plotly-plot');"
                    " return d && JSON.stringify(Array.from(d.data[0].y)) === JSON.stringify(want); }",
                    arg=after_expected,
                )
                after = _trend_y(page)
                assert after != before
                assert after == pytest.approx(after_expected)
                # the other widgets update through their own messages: wait for them too
                expect(page.locator(".rk-page-label")).to_contain_text(f"of {matching:,} ")
                expect(page.locator(".rk-table-html td", has_text=CATEGORY)).to_have_count(20)

                page.locator(".rk-csv button, button.rk-csv").first.click()
                link = page.locator(".rk-csv-link a")
                link.wait_for()
                with page.expect_download() as download:
                    link.click()
                saved = download.value.path()
                exported = pd.read_csv(saved)
                assert download.value.suggested_filename.endswith(".csv")
                assert len(exported) == matching
                assert set(exported["category"]) == {CATEGORY}

                stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                assert stderr.count() == 0, stderr.all_inner_texts()
                assert page.locator(".rk-error").count() == 0
                assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
                assert not page_errors, page_errors
            finally:  # best effort: a failed screenshot must not hide the test's own failure
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(ARTIFACTS / "explore-page.png"))
                    _shoot_explorer(page, ARTIFACTS / "explore.png")
        finally:
            browser.close()
    if os.environ.get("RISKKIT_UPDATE_SCREENSHOT") == "1":
        shutil.copy(ARTIFACTS / "explore.png", ROOT / "docs" / "explore.png")
