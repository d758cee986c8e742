"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Never run ``playwright install``: the tests use the system browser at ``CHROMIUM``.
Screenshots land in ``tests/artifacts/browser/`` (git-ignored) for a person to look at;
a failing test also leaves ``FAILED-<test>.png`` of every page it had open.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# ORM calls from the test body (seeding the demo org) as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
SMALL_LAPTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
# Generous for a cold live server; a healthy page answers in well under a second.
TIMEOUT_MS = 10_000

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can see whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_site(live_server, transactional_db) -> str:
    """The live server's base URL, with the demo company seeded in its database."""
    from orgs.demo import seed_demo_org

    seed_demo_org()
    return live_server.url


@pytest.fixture
def new_page(browser: Browser, demo_site: str, request) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (own cookies), as a Chinese sales team's browser.

    Every page is watched: a request to another host (a CDN), a static file that fails to
    load, an uncaught script error or anything the Content-Security-Policy refused fails the
    test, since the user would see a broken page.
    """
    contexts = []
    pages: list[Page] = []
    problems: list[str] = []
    origin = urlsplit(demo_site).netloc

    def _new_page(viewport: dict | None = None, **context_options) -> Page:
        options = {
            "viewport": viewport or DESKTOP,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            **context_options,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()

        def on_request(req):
            if urlsplit(req.url).scheme in ("http", "https") and urlsplit(req.url).netloc != origin:
                problems.append(f"external request: {req.url}")

        def on_response(resp):
            if "/static/" in resp.url and resp.status >= 400:
                problems.append(f"static file {resp.url} answered {resp.status}")

        page.on("request", on_request)
        page.on("response", on_response)
        page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))

        def on_console(message):
            # The Content-Security-Policy refused something (an inline script or handler,
            # a style, a font or an image from elsewhere): the page is partly broken.
            if "Content Security Policy" in message.text:
                problems.append(f"CSP violation on {page.url}: {message.text}")

        page.on("console", on_console)
        pages.append(page)
        return page

    yield _new_page

    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(pages, start=1):
            if not page.is_closed():
                name = f"FAILED-{_slug(request.node.name)}-{number}.png"
                page.screenshot(path=SCREENSHOTS / name, full_page=True)
    for context in contexts:
        context.close()
    if problems:
        pytest.fail("The browser saw problems:\n" + "\n".join(problems))


@pytest.fixture
def page(new_page) -> Page:
    """A desktop page (1366x768) in its own browser context."""
    return new_page()


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot under a descriptive name; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{_slug(name)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return _shot


@pytest.fixture
def sign_in(demo_site: str) -> Callable[..., Page]:
    """Sign in through the real login form; returns the page where the user landed."""
    from orgs.demo import DEMO_PASSWORD

    def _sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> Page:
        page.goto(f"{demo_site}/login/")
        form = page.get_by_test_id("login-form")
        form.locator("#id_username").fill(username)
        form.locator("#id_password").fill(password)
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        return page

    return _sign_in


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
