"""Browser-test fixtures: a real gradviz server on 127.0.0.1 and Debian's Chromium via Playwright.

The server runs in this process (the app factory under werkzeug, threaded), on a free
port, with a temporary store; every test that starts it stops it in a finally.
Playwright drives /usr/bin/chromium; never `playwright install`.
"""
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
SHOTS = Path(os.environ.get("GRADVIZ_UI_SHOTS", Path(tempfile.gettempdir()) / "gradviz-ui-shots"))
ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "gradviz" / "static" / "vendor"


def _need_browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    if not (VENDOR / "socket.io.esm.min.js").exists():
        pytest.skip("browser libraries are not vendored: run `npm ci && python scripts/vendor.py`")
    return pytest.importorskip("playwright.sync_api")


logging.getLogger("werkzeug").setLevel(logging.WARNING)


class LiveServer:
    """A gradviz app served by werkzeug in a thread; `.url` carries the token."""

    def __init__(self, tmp, **config):
        from werkzeug.serving import make_server
        from gradviz.web.app import create_app
        cfg = {"store": str(tmp / "store.sqlite"), "host": "127.0.0.1", "port": 0}
        cfg.update(config)
        self.app = create_app(cfg)
        self.token = self.app.config["GRADVIZ"]["token"]
        self.gv = self.app.extensions["gradviz"]
        self.http = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.http.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.gv.config["port"] = self.port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def url(self):
        return f"{self.base}/?token={self.token}"

    def start(self):
        self.gv.start()
        self.thread.start()
        return self

    def stop(self):
        try:
            self.gv.stop()
        finally:
            self.http.shutdown()
            self.thread.join(5)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    sync_api = _need_browser()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def server(tmp_path):
    """A fresh server with the default session (the MLP on the spiral set, paused)."""
    _need_browser()
    srv = LiveServer(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def page(browser, server):
    """A 1400×900 page on the server's URL; page errors fail the test."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url)
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    try:
        yield pg
    finally:
        ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@contextmanager
def attached_script(browser, server, tmp_path, source, session, *args):
    """Run `source` in a subprocess as a user's script; yield a page on its session, paused.

    The script gets ``url token session *args`` on its command line and calls
    ``gv.attach(url, token=token, session=session, paused=True)``. The page (1400×900) opens
    once the session exists and is yielded when the run state says paused; its uncaught errors
    fail the test. The script is killed at the end.
    """
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.Popen([sys.executable, str(script), server.base, server.token, session,
                             *map(str, args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        deadline = time.time() + 30
        while session not in server.gv.manager.sessions and time.time() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.1)
        pg.goto(f"{server.url}&session={session}")
        pg.wait_for_selector("body[data-ready='1']", timeout=20000)
        pg.wait_for_selector("[data-testid=run-state][data-state=paused]", timeout=20000)
        yield pg
    finally:
        ctx.close()
        proc.kill()
        proc.communicate(timeout=10)
    assert not errors, f"uncaught errors in the page: {errors}"


def open_recorded(browser, server, events, viewport=VIEWPORT, prefix="replay"):
    """A page on a new session holding `events` (a recording), once it has them all; returns
    (context, page, errors): the caller closes the context and checks the errors."""
    s = server.gv.manager.create("replay", prefix=prefix)
    server.gv.manager.ingest_local(s, events)
    ctx = browser.new_context(viewport=viewport)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{server.url}&session={s.id}")
    pg.wait_for_selector("body[data-ready='1']", timeout=20000)
    pg.wait_for_function("n => Number(document.body.dataset.events) >= n", arg=len(events),
                         timeout=20000)
    pg.wait_for_timeout(200)
    return ctx, pg, errors


def open_pg(page):
    """Open the Playground tab and wait until it is ready with a valid spec."""
    page.click("[data-testid=tab-playground]")
    page.wait_for_selector("#playground-root[data-ready='1']")
    page.wait_for_selector("#playground-root[data-valid='1']", timeout=15000)
    return page


def shot(pg, name):
    """Save a screenshot (in $GRADVIZ_UI_SHOTS, default: a temp folder) for a human to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def states(pg):
    """data-state of every rendered graph node, by node id."""
    return pg.eval_on_selector_all(
        "[data-testid=graph] [data-node-id]",
        "els => Object.fromEntries(els.map(e => [e.dataset.nodeId, e.dataset.state]))")


def count_state(pg, state):
    return pg.locator(f"[data-testid=graph] [data-node-id][data-state={state}]").count()


@pytest.fixture(scope="session", autouse=True)
def _clean_shots():
    if SHOTS.exists() and SHOTS.name == "gradviz-ui-shots":
        shutil.rmtree(SHOTS, ignore_errors=True)
    yield
