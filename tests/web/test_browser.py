"""The desk end to end in headless Chromium, against a real `tolmach serve` on a temporary
store: sign in, upload a clip of real Russian speech, watch its job, edit an English
segment, verify with a note, publish, sign out and read the public page.

Every page is saved as a screenshot at a desktop size and at a 375x812 phone size (in
``$TOLMACH_TEST_ARTIFACTS``, else ``test-artifacts/screenshots``), and no phone page may be
wider than the screen.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect, sync_playwright

from conftest import REPO, MediaFactory, store_database

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.server, pytest.mark.slow]

PASSWORD = "a long browser passphrase"
EDITED = "We, the soldiers of the 96th regiment, ask for help (checked by the desk)."
NOTE = "Speaker and insignia match two earlier videos of the regiment."
JOB_TIMEOUT_S = 900  # Whisper, the offline translator, render and analysis on a small CPU


@dataclass
class Desk:
    url: str
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A real `tolmach serve` on a free port over a new data folder with one editor."""
    root = tmp_path_factory.mktemp("desk-browser")
    env = {**os.environ, "TOLMACH_DATA_DIR": str(root / "data")}
    if url := store_database(root / "data"):  # the module's own database on PostgreSQL
        env["TOLMACH_DATABASE_URL"] = url
    tolmach = [sys.executable, "-m", "tolmach"]
    for role in ("editor", "admin"):
        added = subprocess.run(
            [*tolmach, "users", "add", role, "--role", role],
            env={**env, "TOLMACH_PASSWORD": PASSWORD}, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    port = _free_port()
    log = root / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [*tolmach, "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    found = Desk(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{found.url}/login", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert server.poll() is None, found.log_tail()
                assert time.monotonic() < deadline, "the desk did not start: " + found.log_tail()
                time.sleep(0.3)
        yield found
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.fixture
def shots_dir() -> Path:
    folder = Path(os.environ.get("TOLMACH_TEST_ARTIFACTS") or REPO / "test-artifacts/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("desk-*.png"):
        old.unlink()
    return folder


def _chromium() -> str:
    found = os.environ.get("TOLMACH_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium not found: install it or set TOLMACH_CHROMIUM to its path.")
    return found


@dataclass
class Shots:
    """Screenshots of each step at desktop and phone size, and what the phone pages broke."""

    folder: Path
    desktop: Page
    phone: Page
    taken: list[str] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)

    def take(self, name: str, url: str = "") -> None:
        """Screenshots of the desktop page and of ``url`` (the same page) on the phone."""
        desktop, phone = self.desktop, self.phone
        n = len(self.taken) + 1
        desktop.screenshot(path=self.folder / f"desk-{n:02d}-{name}-desktop.png", full_page=True)
        phone.goto(url or desktop.url)  # the same page, as it is now
        phone.wait_for_load_state("networkidle")
        phone.screenshot(path=self.folder / f"desk-{n:02d}-{name}-phone.png", full_page=True)
        wide, screen = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if wide > screen:
            self.too_wide.append(f"{name} ({phone.url}): {wide}px wide on a {screen}px screen")
        self.taken.append(name)


def test_desk_in_a_browser(desk: Desk, media: MediaFactory, shots_dir: Path) -> None:
    clip = media.speech_video("обращение 96 полка.mp4")
    problems: list[str] = []

    def watch(page: Page, who: str) -> None:
        """Note every script error, console error and failed request of ``page``."""

        def console(m: ConsoleMessage) -> None:
            if m.type == "error":
                problems.append(f"{who} console: {m.text} at {m.location.get('url')}")

        def response(r: Response) -> None:
            if r.status >= 400:
                problems.append(f"{who} {r.status} {r.request.method} {r.url}")

        page.on("console", console)
        page.on("response", response)
        page.on("pageerror", lambda e: problems.append(f"{who} script error: {e}"))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            desktop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            phone = browser.new_context(
                viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                has_touch=True,
            ).new_page()  # fmt: skip
            watch(desktop, "desktop")
            watch(phone, "phone")
            shots = Shots(shots_dir, desktop, phone)
            desktop.set_default_timeout(30_000)
            phone.set_default_timeout(30_000)

            def sign_in(page: Page, name: str = "editor") -> None:
                page.goto(f"{desk.url}/login")
                page.get_by_label("Account name").fill(name)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{desk.url}/items")

            desktop.goto(f"{desk.url}/")
            expect(desktop.get_by_role("link", name="Sign in")).to_be_visible()
            desktop.goto(f"{desk.url}/login")
            shots.take("sign-in")
            sign_in(desktop)
            sign_in(phone)
            shots.take("items-empty")
            desktop.get_by_role("link", name="Account").click()
            desktop.get_by_label("Label").fill("archive sync")
            desktop.get_by_role("button", name="Create token").click()
            expect(desktop.locator("#new-token")).to_have_value(re.compile(r"^tmk_"))
            shots.take("account-token", f"{desk.url}/account")  # the token was a POST's answer

            desktop.get_by_role("link", name="Add").click()
            desktop.wait_for_url(f"{desk.url}/intake")
            shots.take("intake")
            desktop.set_input_files("#upload-file", clip)
            desktop.get_by_role("button", name="Upload").click()
            desktop.wait_for_url(re.compile(r".*/jobs/\d+$"))
            expect(desktop.locator("#job-status")).to_be_visible()
            shots.take("job-started")

            open_item = desktop.locator("#job-status a.open-item")
            failed = desktop.locator("#job-status .state.failed")
            deadline = time.monotonic() + JOB_TIMEOUT_S
            while not open_item.is_visible():
                assert not failed.is_visible(), desktop.locator("#job-status").inner_text()
                assert time.monotonic() < deadline, "the job did not finish: " + desk.log_tail()
                desktop.wait_for_timeout(2000)
            shots.take("job-done")

            open_item.click()
            desktop.wait_for_url(re.compile(r".*/items/[0-9a-f]+$"))
            item_id = desktop.url.rsplit("/", 1)[1]
            panel = desktop.locator(".review-panel")
            expect(panel).to_be_visible()
            first = desktop.locator("li.seg").first
            expect(first.locator(".label.machine")).to_be_visible()
            shots.take("item")

            first.locator(".en a.edit").click()
            editing = desktop.locator("li.seg.editing")
            editing.locator("textarea").fill(EDITED)
            shots.take("segment-editing")
            editing.get_by_role("button", name="Save").click()
            saved = desktop.locator("li.seg").first
            expect(saved.locator(".en .text")).to_have_text(EDITED)
            expect(saved.locator(".label.reviewed")).to_contain_text("editor")
            shots.take("segment-saved")

            panel.locator("select[name=status]").select_option("verified")
            panel.locator("textarea[name=note]").fill(NOTE)
            panel.get_by_role("button", name="Change status").click()
            expect(desktop.locator(".review-panel .review-status")).to_have_class(
                re.compile(r"\bstatus-verified\b")
            )
            expect(desktop.locator(".review-panel .review-notes")).to_contain_text(NOTE)
            shots.take("verified")

            desktop.locator(".review-panel").get_by_role("button", name="Publish").click()
            public_link = desktop.locator(f'.review-panel a[href="/p/{item_id}"]')
            expect(public_link).to_be_visible()
            shots.take("published")

            for page in (desktop, phone):
                page.get_by_role("button", name=re.compile("^Sign out")).click()
                expect(page.get_by_role("link", name="Sign in")).to_be_visible()
            shots.take("signed-out")

            desktop.wait_for_url(f"{desk.url}/published")
            desktop.locator(f'a[href="/p/{item_id}"]').click()
            desktop.wait_for_url(f"{desk.url}/p/{item_id}")
            expect(desktop.locator(".public-item .transcript")).to_contain_text(EDITED)
            expect(desktop.locator(".public-item .verdict")).to_contain_text("Verified")
            label = desktop.locator(".public-item .label")
            expect(label).to_have_text("Machine translation, reviewed by editor")
            expect(desktop.locator("video.player track[srclang=en]")).to_have_count(1)
            shots.take("public-item")
            desktop.goto(f"{desk.url}/items/{item_id}")  # the desk itself is closed to them
            desktop.wait_for_url(f"{desk.url}/login?next=/items/{item_id}")

            sign_in(desktop, "admin")
            sign_in(phone, "admin")
            desktop.goto(f"{desk.url}/admin/users")
            expect(desktop.locator(".auth-table")).to_contain_text("editor")
            shots.take("admin-users")
        finally:
            browser.close()
    assert not shots.too_wide, "phone pages wider than the screen:\n" + "\n".join(shots.too_wide)
    assert not problems, "\n".join(problems)
