"""The web tests' world and browser: built once for this package, and gone before the next tests run
(its API server, audit writer and Playwright's event loop would otherwise outlive it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Infra
from traceability.errors import MissingDependency


@pytest.fixture(scope="package")
def web_world(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo served over HTTP (``tests.integration.web.world``), once for this package's tests."""
    from tests.integration.web.world import build_web_world

    built = build_web_world(infra, tmp_path_factory.mktemp("web"))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (its own browser downloads are never used).

    One per module, not per session: Playwright's sync API keeps an event loop running in the main
    thread while it is started, and the tests after the browser's module call ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    from tests.integration.web.world import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        raise MissingDependency(f"{CHROMIUM} is not installed: run deploy/bootstrap.sh --with-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
