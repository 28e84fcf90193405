"""Real-browser check of the workbook (``make e2e``; not part of ``make test``).

1. Copies ``notebooks/01_fingerprinting.ipynb`` to ``outputs/e2e/lab/`` (the stored
   notebook is never opened, so JupyterLab's autosave cannot write outputs into it)
   with ``out_dir = outputs/e2e/run``.
2. Starts JupyterLab from this project's interpreter on 127.0.0.1, a free port and a
   random token, with throw-away runtime/settings/workspace folders.
3. Opens the copy in headless Chromium (Debian's ``/usr/bin/chromium``, driven by
   Playwright through ``executable_path``: no browser download), runs all cells
   (Run menu), waits for the slice explorer, and saves ``outputs/e2e/before.png``.
4. Focuses the explorer's ``window`` slider and presses the arrow key; asserts that
   the explorer's figure changed (its ``<img>`` source and the screenshot bytes),
   that no update error is shown and that an ``<audio>`` element is on the page;
   saves ``outputs/e2e/after.png`` (and full-page ``*_page.png`` shots).

Exit code 0 when every check passed, 1 otherwise (the reason on stderr; the
JupyterLab log is ``outputs/e2e/jupyterlab.log``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_fingerprinting.ipynb"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_copy(out: Path) -> Path:
    """The notebook copy the browser opens, writing into outputs/e2e/run."""
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    run_dir = (out / "run").as_posix()
    cell.source, n = re.subn(
        r'^out_dir: str = "[^"]*"', f'out_dir: str = "{run_dir}"', cell.source, flags=re.M
    )
    if n != 1:
        raise CheckFailed("could not set out_dir in the notebook copy")
    # JupyterLab serves the project folder: the copy must live inside it
    lab = out / "lab" if out.is_relative_to(ROOT) else ROOT / "outputs" / "e2e" / "lab"
    dest = lab / NOTEBOOK.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def start_lab(port: int, token: str, tmp: Path, log_path: Path) -> subprocess.Popen:
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"))
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI often run as root
    log = open(log_path, "w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_server(port: int, token: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise CheckFailed(f"JupyterLab exited with code {proc.returncode} (see jupyterlab.log)")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CheckFailed(f"JupyterLab did not answer on port {port} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.5):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")


def browser_check(url: str, out: Path, *, timeout: float) -> dict:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(timeout * 1000)
            page.goto(url)
            page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")

            def no_dialog() -> bool:
                """Accept a dialog in the way (JupyterLab sometimes asks "Select Kernel" when
                the kernel specs arrive after the notebook opened): True when none is open."""
                dialog = page.locator(".jp-Dialog")
                if dialog.count() and dialog.first.is_visible():
                    accept = dialog.locator(".jp-Dialog-button.jp-mod-accept")
                    if accept.count():
                        accept.first.click()
                    return False
                return True

            def kernel_idle() -> bool:
                return no_dialog() and bool(
                    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
                    or page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\|\s*Idle")).count()
                )

            # the kernel must be up (and no dialog open) before "Run All Cells"
            wait_until(kernel_idle, timeout, "an idle kernel")
            time.sleep(1.0)
            wait_until(kernel_idle, timeout, "an idle kernel")
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

            explorer = (
                page.locator(".widget-vbox", has=page.locator("img"))
                .filter(has=page.locator("label", has_text=re.compile(r"^window$")))
                .first
            )
            wait_until(
                lambda: no_dialog() and explorer.count() and explorer.is_visible(),
                timeout,
                "the slice explorer",
            )
            img = explorer.locator("img").first
            wait_until(lambda: (img.get_attribute("src") or "").strip(), timeout, "the explorer's figure")
            # let the remaining cells finish: no cell is still queued/running
            wait_until(
                lambda: (
                    page.locator(".jp-InputPrompt", has_text="[*]").count() == 0
                    and page.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")).count() > 0
                ),
                timeout,
                "all cells to finish",
            )
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
            if tracebacks.count():
                raise CheckFailed("a cell failed: " + tracebacks.first.inner_text()[:500])
            explorer.scroll_into_view_if_needed()
            time.sleep(1.0)
            src_before = img.get_attribute("src")
            shot_before = explorer.screenshot(path=str(out / "before.png"))
            page.screenshot(path=str(out / "before_page.png"))

            slider = explorer.locator(
                ".widget-slider", has=page.locator("label", has_text=re.compile(r"^window$"))
            )
            handle = slider.locator(".noUi-handle").first
            readout_before = slider.locator(".widget-readout").first.inner_text().strip()
            handle.focus()
            for _ in range(5):
                handle.press("ArrowRight")
            wait_until(lambda: img.get_attribute("src") != src_before, timeout, "the figure to change")
            readout_after = slider.locator(".widget-readout").first.inner_text().strip()

            def settled():  # the last keypress's redraw has arrived: src unchanged for 1.5 s
                src = img.get_attribute("src")
                time.sleep(1.5)
                return img.get_attribute("src") == src

            wait_until(settled, timeout, "the figure to settle", interval=0)
            shot_after = explorer.screenshot(path=str(out / "after.png"))
            page.screenshot(path=str(out / "after_page.png"))
            n_audio = page.locator("audio").count()
            error_text = explorer.inner_text()
            result = {
                "slider_before": readout_before,
                "slider_after": readout_after,
                "img_src_changed": src_before != img.get_attribute("src"),
                "screenshot_changed": shot_before != shot_after,
                "audio_elements": n_audio,
                "update_error_shown": "update failed" in error_text,
                "stderr_outputs": errors.count(),
            }
            if not result["img_src_changed"] or not result["screenshot_changed"]:
                raise CheckFailed(f"the figure did not change after the slider move: {result}")
            if readout_before == readout_after:
                raise CheckFailed(f"the slider did not move: {result}")
            if n_audio < 1:
                raise CheckFailed("no <audio> element on the page")
            if result["update_error_shown"]:
                raise CheckFailed("the explorer shows an update error: " + error_text[:300])
        except (PlaywrightError, CheckFailed) as exc:
            if page is not None:
                try:
                    page.screenshot(path=str(out / "failure.png"), full_page=True)
                except PlaywrightError:
                    pass
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CheckFailed(f"{msg} (screenshot: {out / 'failure.png'})") from None
        finally:
            browser.close()
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "e2e", help="screenshots folder")
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds per wait (default 240)")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if not Path(CHROMIUM).exists():
        print(
            f"e2e: {CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)",
            file=sys.stderr,
        )
        return 1
    out.mkdir(parents=True, exist_ok=True)
    copy = prepare_copy(out)
    port, token = free_port(), secrets.token_hex(16)
    tmp = Path(tempfile.mkdtemp(prefix="conv2dsep-e2e-"))
    proc = start_lab(port, token, tmp, out / "jupyterlab.log")
    t0 = time.time()
    try:
        wait_for_server(port, token, proc)
        rel = copy.relative_to(ROOT).as_posix()
        result = browser_check(
            f"http://127.0.0.1:{port}/lab/tree/{rel}?token={token}", out, timeout=args.timeout
        )
    except CheckFailed as exc:
        print(f"e2e: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    result["seconds"] = round(time.time() - t0, 1)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"e2e: ok in {result['seconds']:.0f} s: slider {result['slider_before']} -> "
        f"{result['slider_after']}, figure changed, {result['audio_elements']} <audio> element(s); "
        f"screenshots {out / 'before.png'}, {out / 'after.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
