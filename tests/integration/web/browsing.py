"""A reader in the browser, for the web tests: a fresh Chromium context (its own cookies) that signs
in through the sign-in form, waits for the page scripts, keeps screenshots, and records what no
page may do: log a script error or a policy violation, or fetch anything from another origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.integration.web.world import WebWorld, artifacts

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Reader:
    world: WebWorld
    page: Any
    problems: list[str] = field(default_factory=list)

    def sign_in(self, name: str) -> None:
        self.page.goto(f"{self.world.base}/sign-in")
        self.page.fill("#key", self.world.keys[name])
        with self.page.expect_navigation():
            self.page.click("main form button[type=submit]")

    def open(self, path: str, *, ready: bool = True) -> None:
        """Go to ``path``; with ``ready``, wait until the page script has rendered its answer."""
        self.page.goto(self.world.base + path)
        if ready:
            self.wait_ready()

    def wait_ready(self) -> None:
        self.page.wait_for_selector("#app[data-ready='1']", timeout=30_000)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(artifacts() / f"{name}.png"), full_page=True)

    def api(self, name: str, path: str) -> httpx.Response:
        """The same question asked of the API directly, as ``name`` with a bearer key."""
        return httpx.get(self.world.base + path, headers={"Authorization": f"Bearer {self.world.keys[name]}"},
                         timeout=30)

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.inner_text())

    def column(self, table: str, index: int) -> list[str]:
        """The text of one column (0-based) of a table's body rows."""
        cells = self.page.locator(f"{table} tbody tr td:nth-child({index + 1})")
        return [str(t).strip() for t in cells.all_inner_texts()]


def new_reader(browser: Any, world: WebWorld, viewport: dict[str, int] = DESKTOP) -> tuple[Any, Reader]:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    reader = Reader(world, page)
    page.on("console", lambda m: reader.problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and not _an_answer_refused(m.text) else None)
    page.on("pageerror", lambda e: reader.problems.append(f"script error: {e}"))
    page.on("request", lambda r: None if r.url.startswith((world.base, "data:", "blob:"))
            else reader.problems.append(f"fetched from elsewhere: {r.url}"))
    page.on("response", lambda r: reader.problems.append(f"{r.status} for {r.url}")
            if r.status >= 400 and "/static/" in r.url else None)
    return context, reader


def _an_answer_refused(text: str) -> bool:
    """Chromium logs every 4xx answer of a fetch; a 404 for a batch one may not see is the page working
    (the page's own message is what the tests check), and a missing script or style is caught by status."""
    return text.startswith("Failed to load resource: the server responded with a status of 4")
