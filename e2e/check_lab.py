"""Real-browser check of the workbook (``make e2e``; not part of ``make test``).

1. Copies notebooks 01, 02 and 05 to ``OUT/lab/`` (the stored notebooks are never
   opened, so JupyterLab's autosave cannot write outputs into them) with
   ``out_dir = OUT/run`` and small settings for 02 and 05 (2 slices, no BSS Eval).
   The input is the default one when it exists (``data/rtg/100-window/`` or the demo
   song); otherwise a demo song is synthesised into ``OUT/data/``.
2. Starts JupyterLab from this project's interpreter on 127.0.0.1, a free port and a
   random token, serving ``OUT`` only, with throw-away runtime/settings/workspace
   folders under ``OUT/.tmp``, which is also the home, cache, config, IPython,
   matplotlib and temporary folder of every process (JupyterLab, kernels, Playwright,
   Chromium): the check writes nothing outside ``OUT`` (``.tmp`` is removed at the end).
3. Opens each copy in headless Chromium (Debian's ``/usr/bin/chromium``, driven by
   Playwright through ``executable_path``: no browser download, no network beyond
   127.0.0.1), runs all cells (Run menu) and checks:

   * **01**: the A/B player keeps the position across a source switch (play, wait,
     switch: ``currentTime`` did not reset, the new source is playing and goes on);
     the slice explorer's ``window`` slider (arrow keys) changes the figure; the
     static copy beside the live explorer closed itself (the live widget rendered).
   * **01 reopened**: saved (File > Save Notebook), its kernel shut down, opened again:
     the widget views are gone, the static copy is open with the explorer's figure and
     the players are there.
   * **02**: the optimisation explorer's ``window`` slider changes the figure without
     re-optimising (the status says the result was reused); a short drag of the
     learning-rate (log) slider is a small change and re-optimises.
   * **05**: the results explorer's ``extraction`` dropdown changes the figure; its
     A/B player (in an Output widget) is scripted.

   No cell may fail.  Screenshots: ``OUT/<nb>_before.png``, ``OUT/<nb>_after.png``
   (the explorer), ``OUT/<nb>_page.png`` (the window), ``OUT/01_ab_player.png``,
   ``OUT/01_reopened.png``, ``OUT/02_after_lr.png``; on failure ``OUT/failure.png``.

Exit code 0 when every check passed, 1 otherwise (the reason on stderr; the
JupyterLab log is ``OUT/jupyterlab.log``, the measurements ``OUT/result.json``).
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
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
    "--disable-crash-reporter",
    "--autoplay-policy=no-user-gesture-required",
]
#: Notebook -> parameters of its copy (besides out_dir and the input).
NOTEBOOKS = {
    "01_fingerprinting": {},
    "02_strategy3": {"n_slices": 2, "bss": False},
    "05_results": {"n_slices": 2, "bss": False},
}


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_input(out: Path) -> str:
    """'' when the notebooks' default input exists, else a demo song synthesised under *out*."""
    from conv2dsep_lib.sources.demo_set import build_demo_set, demo_song_dir
    from conv2dsep_lib.sources.layout import DEFAULT_DEMO_ROOT, MIXTURE_NAME, VOCAL_NAME

    def has_pair(d: Path) -> bool:
        return (d / MIXTURE_NAME).is_file() and (d / VOCAL_NAME).is_file()

    if has_pair(ROOT / "data" / "rtg" / "100-window") or has_pair(demo_song_dir(DEFAULT_DEMO_ROOT, 0)):
        return ""
    build_demo_set(out / "data", seeds=(0,))
    d = demo_song_dir(out / "data", 0)
    if not has_pair(d):
        raise CheckFailed(f"could not synthesise a demo song into {d}")
    return str(d)


def set_parameters(source: str, values: dict) -> str:
    """The parameters cell with new values (``name: type = value  # help`` lines)."""
    for name, value in values.items():
        literal = json.dumps(value) if isinstance(value, str) else repr(value)
        source, n = re.subn(
            rf"^({re.escape(name)}: \w+ = )[^#\n]*?(\s+#)", rf"\g<1>{literal}\g<2>", source, flags=re.M
        )
        if n != 1:
            raise CheckFailed(f"could not set {name} in the notebook copy")
    return source


def prepare_copy(out: Path, name: str, params: dict) -> Path:
    """The copy of notebooks/<name>.ipynb the browser opens, writing into OUT/run."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = set_parameters(cell.source, {"out_dir": (out / "run").as_posix(), **params})
    dest = out / "lab" / f"{name}.ipynb"
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def start_lab(port: int, token: str, out: Path, tmp: Path) -> subprocess.Popen:
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "matplotlib"),
        TMPDIR=str(tmp),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={out}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI often run as root
    log = open(out / "jupyterlab.log", "w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def api(port: int, token: str, path: str, method: str = "GET"):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else None


def wait_for_server(port: int, token: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise CheckFailed(f"JupyterLab exited with code {proc.returncode} (see jupyterlab.log)")
        try:
            api(port, token, "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    raise CheckFailed(f"JupyterLab did not answer on port {port} within {timeout:.0f} s")


def shutdown_kernels(port: int, token: str) -> None:
    """End the sessions (and kernels) of the notebooks checked so far: two cores only."""
    try:
        for s in api(port, token, "/api/sessions") or []:
            api(port, token, f"/api/sessions/{s['id']}", method="DELETE")
    except OSError:
        pass


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


# ------------------------------------------------------------------ in the page
def run_all_cells(page, timeout: float) -> None:
    """Wait for an idle kernel, Run > Run All Cells, wait until every cell ran; no error."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")

    def no_dialog() -> bool:
        """Accept a dialog in the way ("Select Kernel" when the kernel specs came late): True if none."""
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

    wait_until(kernel_idle, timeout, "an idle kernel")
    time.sleep(1.0)
    wait_until(kernel_idle, timeout, "an idle kernel")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    wait_until(
        lambda: (
            no_dialog()
            and page.locator(".jp-InputPrompt", has_text="[*]").count() == 0
            and page.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")).count()
            == page.locator(".jp-CodeCell").count()
        ),
        timeout,
        "all cells to finish",
    )
    tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    if tracebacks.count():
        raise CheckFailed("a cell failed: " + tracebacks.first.inner_text()[:500])


def explorer_with(page, label: str):
    """The explorer (a widget VBox with a figure) that has a control labelled *label*."""
    return (
        page.locator(".widget-vbox", has=page.locator("img"))
        .filter(has=page.locator("label", has_text=re.compile(rf"^{re.escape(label)}$")))
        .first
    )


def slider(page, explorer, label: str):
    return explorer.locator(".widget-slider", has=page.locator("label", has_text=re.compile(rf"^{label}$")))


def settled(img, pause: float = 1.5):
    """A predicate: the figure's source stayed the same for *pause* seconds."""

    def check() -> bool:
        src = img.get_attribute("src")
        time.sleep(pause)
        return img.get_attribute("src") == src

    return check


def figure_change(page, explorer, action, *, out: Path, prefix: str, timeout: float) -> dict:
    """Screenshot the explorer, run *action*, wait for a new figure, screenshot again."""
    img = explorer.locator("img").first
    wait_until(lambda: (img.get_attribute("src") or "").strip(), timeout, f"the {prefix} figure")
    explorer.scroll_into_view_if_needed()
    time.sleep(1.0)
    src_before = img.get_attribute("src")
    shot_before = explorer.screenshot(path=str(out / f"{prefix}_before.png"))
    action()
    wait_until(lambda: img.get_attribute("src") != src_before, timeout, f"the {prefix} figure to change")
    wait_until(settled(img), timeout, f"the {prefix} figure to settle", interval=0)
    shot_after = explorer.screenshot(path=str(out / f"{prefix}_after.png"))
    page.screenshot(path=str(out / f"{prefix}_page.png"))
    text = explorer.inner_text()
    res = {
        "img_src_changed": img.get_attribute("src") != src_before,
        "screenshot_changed": shot_before != shot_after,
        "update_error_shown": "update failed" in text,
    }
    if not res["img_src_changed"] or not res["screenshot_changed"]:
        raise CheckFailed(f"{prefix}: the figure did not change: {res}")
    if res["update_error_shown"]:
        raise CheckFailed(f"{prefix}: the explorer shows an update error: " + text[:300])
    return res


def press(handle, key: str, times: int):
    def act():
        handle.focus()
        for _ in range(times):
            handle.press(key)

    return act


_AB_STATE = """(root) => {
  const audios = Array.from(root.querySelectorAll('audio'));
  const names = Array.from(root.querySelectorAll('.conv2dsep-ab-source')).map(b => b.dataset.source);
  const active = root.getAttribute('data-active');
  const a = audios[names.indexOf(active)];
  return {active: active, names: names, time: a.currentTime, paused: a.paused,
          ready: Math.min(...audios.map(x => x.readyState)),
          others_paused: audios.filter(x => x !== a).every(x => x.paused)};
}"""


def check_ab_player(page, root, out: Path, timeout: float) -> dict:
    """Play, wait, switch: the position carries over and the new source goes on playing."""
    root.scroll_into_view_if_needed()
    handle = root.element_handle()

    def state():
        return page.evaluate(_AB_STATE, handle)

    wait_until(lambda: state()["ready"] >= 1, timeout, "the A/B player's audio metadata")
    first = state()
    if len(first["names"]) < 2:
        raise CheckFailed(f"the A/B player has fewer than two sources: {first}")
    root.locator(".conv2dsep-ab-play").click()
    s1 = wait_until(
        lambda: (lambda s: s if s["time"] > 1.0 and not s["paused"] else None)(state()),
        30,
        "the A/B player to play 1 s",
    )
    other = next(n for n in s1["names"] if n != s1["active"])
    root.locator(f".conv2dsep-ab-source[data-source='{other}']").click()
    s2 = state()
    time.sleep(1.0)
    s3 = state()
    root.screenshot(path=str(out / "01_ab_player.png"))
    root.locator(f".conv2dsep-ab-source[data-source='{s1['active']}']").click()
    s4 = state()
    root.locator(".conv2dsep-ab-play").click()  # pause
    res = {
        "before_switch": {"source": s1["active"], "time": round(s1["time"], 3)},
        "after_switch": {"source": s2["active"], "time": round(s2["time"], 3), "paused": s2["paused"]},
        "one_second_later": {"time": round(s3["time"], 3), "paused": s3["paused"]},
        "switched_back": {"source": s4["active"], "time": round(s4["time"], 3), "paused": s4["paused"]},
    }
    if s2["active"] != other or s4["active"] != s1["active"]:
        raise CheckFailed(f"the A/B player did not switch source: {res}")
    if s2["time"] < s1["time"] - 0.05 or s2["time"] < 0.5:
        raise CheckFailed(f"the A/B player's position reset on a switch: {res}")
    if s2["paused"] or s3["paused"] or s3["time"] < s2["time"] + 0.3 or not s3["others_paused"]:
        raise CheckFailed(f"the A/B player did not keep playing the new source alone: {res}")
    if s4["paused"] or s4["time"] < s3["time"] - 0.05:
        raise CheckFailed(f"switching back lost the position: {res}")
    return res


def check_01(page, out: Path, timeout: float) -> dict:
    res = {"ab_player": check_ab_player(page, page.locator(".conv2dsep-ab[data-active]").first, out, timeout)}
    explorer = explorer_with(page, "window")
    wait_until(lambda: explorer.count() and explorer.is_visible(), timeout, "the slice explorer")
    handle = slider(page, explorer, "window").locator(".noUi-handle").first
    readout = slider(page, explorer, "window").locator(".widget-readout").first
    before = readout.inner_text().strip()
    res["slice_explorer"] = figure_change(
        page, explorer, press(handle, "ArrowRight", 5), out=out, prefix="01", timeout=timeout
    )
    res["slice_explorer"]["window"] = [before, readout.inner_text().strip()]
    if before == res["slice_explorer"]["window"][1]:
        raise CheckFailed("01: the window slider did not move")
    wait_until(
        lambda: page.locator("details.conv2dsep-snapshot[data-live='1']").count(),
        timeout,
        "the static copy beside the live explorer to close itself",
    )
    res["static_copy_closed_beside_live_widget"] = True
    res["audio_elements"] = page.locator("audio").count()
    return res


def check_02(page, out: Path, timeout: float) -> dict:
    explorer = explorer_with(page, "learning rate")
    wait_until(lambda: explorer.count() and explorer.is_visible(), timeout, "the optimisation explorer")
    status = explorer.locator(".widget-html").first
    handle = slider(page, explorer, "window").locator(".noUi-handle").first
    res = {
        "window": figure_change(
            page, explorer, press(handle, "ArrowLeft", 3), out=out, prefix="02", timeout=timeout
        )
    }
    text = explorer.inner_text()
    res["window"]["status"] = re.sub(r"\s+", " ", text[text.find("ORACLE") :])[:300]
    if "result reused" not in text:
        raise CheckFailed("02: moving the window slider re-optimised (no 'result reused' in the status)")
    # a short drag of the learning-rate (log) slider: a small step, and a re-optimisation
    lr = slider(page, explorer, "learning rate")
    readout = lr.locator(".widget-readout").first
    before = float(readout.inner_text())
    box = lr.locator(".noUi-handle").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    img = explorer.locator("img").first
    src = img.get_attribute("src")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y, steps=4)
    page.mouse.move(x + 16, y, steps=4)
    page.mouse.up()
    wait_until(lambda: float(readout.inner_text()) != before, 20, "the learning rate to change")
    wait_until(lambda: img.get_attribute("src") != src, timeout, "the 02 figure after the drag")
    wait_until(settled(img), timeout, "the 02 figure to settle", interval=0)
    after = float(readout.inner_text())
    text = status.inner_text() if status.count() else explorer.inner_text()
    res["learning_rate_drag_16px"] = {"before": before, "after": after, "ratio": round(after / before, 3)}
    if not 1.0 < after / before <= 2.0:
        raise CheckFailed(f"02: a 16 px drag of the learning rate jumped: {res['learning_rate_drag_16px']}")
    if "optimised" not in explorer.inner_text():
        raise CheckFailed("02: the learning-rate change did not re-optimise")
    explorer.screenshot(path=str(out / "02_after_lr.png"))
    return res


def check_05(page, out: Path, timeout: float) -> dict:
    explorer = explorer_with(page, "floor (dB)")
    wait_until(lambda: explorer.count() and explorer.is_visible(), timeout, "the results explorer")
    wait_until(
        lambda: explorer.locator(".conv2dsep-ab[data-active]").count(),
        timeout,
        "the results explorer's A/B player (scripted inside an Output widget)",
    )
    select = explorer.locator("select").first
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    target = next(o for o in options if o != current)
    res = figure_change(
        page, explorer, lambda: select.select_option(label=target), out=out, prefix="05", timeout=timeout
    )
    res["extraction"] = [current, target]
    wait_until(
        lambda: explorer.locator(".conv2dsep-ab[data-active]").count(),
        timeout,
        "the A/B player of the new extraction",
    )
    active = explorer.locator(".conv2dsep-ab[data-active]").first.get_attribute("data-active")
    res["ab_player_active"] = active
    if target.split(":")[0] not in (active or ""):
        raise CheckFailed(f"05: the A/B player did not follow the extraction: {active!r} for {target!r}")
    return res


def save_notebook(page, timeout: float) -> None:
    """File > Save Notebook, and wait until the tab is no longer marked unsaved."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Save Notebook$")).click()
    wait_until(
        lambda: page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0, timeout, "the notebook saved"
    )


def check_reopened(page, out: Path, timeout: float) -> dict:
    """01 saved and reopened (new kernel): widget views gone, the static copy open with its figure."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
    copy = page.locator("details.conv2dsep-snapshot").first
    wait_until(
        lambda: copy.count() and copy.is_visible(), timeout, "the static copy in the reopened notebook"
    )
    time.sleep(4.0)  # its script looks for a live widget for 15 s: there is none, it must stay open
    copy.scroll_into_view_if_needed()
    img = copy.locator("img").first
    wait_until(lambda: img.evaluate("i => i.complete && i.naturalWidth > 0"), timeout, "the static figure")
    copy.screenshot(path=str(out / "01_reopened.png"))
    res = {
        "static_copy_open": copy.get_attribute("open") is not None,
        "static_figure_px": img.evaluate("i => [i.naturalWidth, i.naturalHeight]"),
        "widget_views_lost": page.get_by_text("Error displaying widget").count(),
        "audio_elements": page.locator("audio").count(),
    }
    if not res["static_copy_open"] or res["audio_elements"] < 2:
        raise CheckFailed(f"01 reopened: the static copy or the players are missing: {res}")
    return res


CHECKS = {"01_fingerprinting": check_01, "02_strategy3": check_02, "05_results": check_05}


def browser_check(port: int, token: str, copies: dict, out: Path, *, timeout: float) -> dict:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = None
        try:
            for name, copy in copies.items():
                context = browser.new_context(viewport={"width": 1500, "height": 1100})
                page = context.new_page()
                page.set_default_timeout(timeout * 1000)
                rel = copy.relative_to(out).as_posix()
                t0 = time.time()
                page.goto(f"http://127.0.0.1:{port}/lab/workspaces/e2e-{name[:2]}/tree/{rel}?token={token}")
                run_all_cells(page, timeout)
                result[name] = CHECKS[name](page, out, timeout)
                if name == "01_fingerprinting":  # item 5: a saved notebook keeps its pictures
                    save_notebook(page, timeout)
                    context.close()
                    shutdown_kernels(port, token)
                    context = browser.new_context(viewport={"width": 1500, "height": 1100})
                    page = context.new_page()
                    page.set_default_timeout(timeout * 1000)
                    page.goto(f"http://127.0.0.1:{port}/lab/workspaces/e2e-re/tree/{rel}?token={token}")
                    result[name]["reopened"] = check_reopened(page, out, timeout)
                result[name]["seconds"] = round(time.time() - t0, 1)
                context.close()
                page = None
                shutdown_kernels(port, token)
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
    ap.add_argument(
        "--out", type=Path, default=ROOT / "outputs" / "e2e", help="output folder (everything goes here)"
    )
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
    tmp = out / ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    # every process of the check (JupyterLab, kernels, Playwright's driver, Chromium) keeps its
    # files under OUT: home, caches (conv2dsep's baseline cache too), config, temporaries
    os.environ.update(
        HOME=str(tmp / "home"),
        XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
        XDG_CACHE_HOME=str(tmp / "home" / ".cache"),
        XDG_DATA_HOME=str(tmp / "home" / ".local" / "share"),
        CONV2DSEP_CACHE=str(tmp / "home" / ".cache" / "conv2dsep"),
        TMPDIR=str(tmp),
    )
    (tmp / "home").mkdir()
    t0 = time.time()
    proc = None
    try:
        data_dir = default_input(out)
        extra = {"data_dir": data_dir} if data_dir else {}
        copies = {name: prepare_copy(out, name, {**extra, **params}) for name, params in NOTEBOOKS.items()}
        port, token = free_port(), secrets.token_hex(16)
        proc = start_lab(port, token, out, tmp)
        wait_for_server(port, token, proc)
        result = browser_check(port, token, copies, out, timeout=args.timeout)
    except CheckFailed as exc:
        print(f"e2e: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    result["seconds"] = round(time.time() - t0, 1)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    ab, lr = result["01_fingerprinting"]["ab_player"], result["02_strategy3"]["learning_rate_drag_16px"]
    print(
        f"e2e: ok in {result['seconds']:.0f} s: A/B switch {ab['before_switch']['source']} at "
        f"{ab['before_switch']['time']:.2f} s -> {ab['after_switch']['source']} at {ab['after_switch']['time']:.2f} s"
        f" and still playing ({ab['one_second_later']['time']:.2f} s a second later); the figures of 01, 02 and "
        f"05 changed; 01 reopened shows its static copy; learning rate {lr['before']:g} -> {lr['after']:g} on a "
        f"16 px drag; details in {out / 'result.json'}\n  screenshots: "
        + ", ".join(str(p) for p in sorted(out.glob("*.png")))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
