"""Browser tests: Debian's Chromium (headless) driven by Selenium through Debian's chromedriver,
against pytest-django's live server on 127.0.0.1. Skipped when either program is missing, so
`./dev test` passes on a machine without them; `.ci/run` installs both and sets
CALSYNC_REQUIRE_BROWSER, which turns the skip into a failure.

Each page a test looks at is saved as a PNG in $CALSYNC_SCREENSHOTS_DIR (default
var/screenshots/, ignored by git) for CI to keep as artifacts."""

import itertools
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bots.reconcile import reconcile_meetings
from calendars.models import Calendar, CalendarSyncEvent, CalendarUser
from meetings.models import Meeting
from tests.factories import (
    BotFactory,
    CalendarFactory,
    MeetingFactory,
    OAuthAppFactory,
    WebhookEndpointFactory,
)

CHROMIUM = os.environ.get("CALSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CALSYNC_CHROMEDRIVER", "/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CALSYNC_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PASSWORD = "pw-browser-123456"
# pytest-django's live server listens on "localhost" unless told otherwise: loopback by address.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")
ZOOM_IDS = itertools.count(1234567890)

WINDOW_WIDTH, WINDOW_HEIGHT = 1400, 1000
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# closed network refuses; a fresh profile per run keeps runs independent.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    f"--window-size={WINDOW_WIDTH},{WINDOW_HEIGHT}",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: runs in a real headless Chromium (tests/browser)")


def required() -> bool:
    """CI (.ci/run) sets CALSYNC_REQUIRE_BROWSER: there a missing browser fails the tests."""
    return os.environ.get("CALSYNC_REQUIRE_BROWSER", "") not in ("", "0")


def missing() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} not found: install Debian's {package} (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def driver(django_db_setup, live_server):
    """One Chromium for the session; each test starts logged out (staff_browser). It quits
    before the test database is dropped and the live server stops, so that no request thread
    still holds a database connection then."""
    reason = missing()
    if reason and required():
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="calsync-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    # Both paths given: Selenium Manager has nothing to look up or download.
    chrome = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)
        # The server's request threads close their database connections once Chromium's
        # keep-alive sockets are gone; wait for them, or dropping the test database races them.
        deadline = time.monotonic() + 10  # for all of them, not each
        for thread in threading.enumerate():
            if "process_request_thread" in thread.name:
                thread.join(timeout=max(deadline - time.monotonic(), 0))


class Browser:
    """The driver plus the live server's address, page helpers and screenshots."""

    def __init__(self, driver, base_url: str, test_name: str):
        self.driver = driver
        self.base_url = base_url
        self.prefix = test_name.removeprefix("test_")

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def one(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click_and_wait(self, element) -> None:
        """Click something that loads a new page, and wait until it has."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        # Mark the old document, not the element: asking Chromium about an element while
        # its page is being replaced can fail with an inspector error ("Node with given id
        # does not belong to the document") instead of the stale-element answer, and any
        # script run mid-navigation may fail the same way. Such errors only mean "not yet".
        self.driver.execute_script("window.__left_behind = true")
        element.click()
        WebDriverWait(self.driver, 15, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return !window.__left_behind && document.readyState === 'complete'"
            )
        )

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.prefix}--{name}.png"
        # The whole page, not just the window: headless, the window can grow to fit it.
        width = self.driver.get_window_size()["width"]
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(width, min(max(height, WINDOW_HEIGHT), 8000))
        try:
            assert self.driver.save_screenshot(str(path)), f"no screenshot of {name}"
        finally:
            self.driver.set_window_size(width, WINDOW_HEIGHT)
        return path

    def log_in(self, username: str, password: str) -> None:
        self.open("/admin/login/?next=/admin/")
        self.one("#id_username").send_keys(username)
        self.one("#id_password").send_keys(password)
        self.click_and_wait(self.one("#login-form [type=submit]"))
        assert self.path() == "/admin/", f"login failed, at {self.path()}"


@pytest.fixture
def staff_browser(driver, live_server, django_user_model, request) -> Browser:
    """A browser logged in as staff through the admin's login form."""
    driver.delete_all_cookies()
    django_user_model.objects.create_superuser("support", "support@example.com", PASSWORD)
    browser = Browser(driver, live_server.url, request.node.name)
    browser.log_in("support", PASSWORD)
    return browser


@dataclass
class Console:
    """What support staff find: two projects, a calendar user with a calendar at the loopback
    Google fake, meetings with and without a bot, a failing calendar and webhook endpoint."""

    user: CalendarUser
    calendar: Calendar
    meeting_without_bot: Meeting
    meeting_with_bot: Meeting
    failing_calendar: Calendar
    failing_endpoint: object


def zoom_meeting(calendar: Calendar, title: str, start, **fields) -> Meeting:
    """A meeting as the sync leaves it, decided and reconciled (a bot when it records)."""
    url = f"https://zoom.us/j/8{next(ZOOM_IDS):010d}"
    meeting = MeetingFactory(
        calendar=calendar,
        title=title,
        start_time=start,
        end_time=start + timedelta(minutes=30),
        meeting_url=url,
        meeting_platform="zoom",
        raw={"id": title, "location": url},
        **fields,
    )
    reconcile_meetings(meeting_ids=[meeting.pk])
    meeting.refresh_from_db()
    return meeting


@pytest.fixture
def console(acme, globex, fake_google) -> Console:
    now = timezone.now()
    email = "alice@acme.example"
    fake_google.add_account(email)
    OAuthAppFactory(
        project=acme.project,
        platform="google",
        client_id=fake_google.client_id,
        client_secret=fake_google.client_secret,
    )
    user = CalendarUser.objects.create(
        project=acme.project, external_id="alice-42", record_external=True, record_internal=False
    )
    calendar = CalendarFactory(
        project=acme.project,
        calendar_user=user,
        email=email,
        refresh_token=fake_google.grant(email),
        last_successful_sync_at=now - timedelta(minutes=5),
    )
    internal = zoom_meeting(calendar, "Team standup", now + timedelta(hours=2), is_external=False)
    external = zoom_meeting(calendar, "Customer demo", now + timedelta(hours=4), is_external=True)
    assert not internal.bots.exists() and external.bots.exists()
    for minutes, kind in ((90, "synced"), (60, "synced"), (30, "failed")):
        CalendarSyncEvent.objects.create(
            calendar=calendar, kind=kind, at=now - timedelta(minutes=minutes)
        )

    failing = CalendarFactory(project=globex.project, email="broken@globex.example")
    failing.set_state(
        Calendar.State.DISCONNECTED,
        failure={
            "error": "auth_revoked",
            "message": "Token has been revoked.",
            "timestamp": now.isoformat(),
        },
    )
    failing.save()
    BotFactory(project=globex.project, join_at=now + timedelta(hours=3))
    # Nothing delivers in these tests (no worker); were it sent, it would stay on loopback.
    failing_endpoint = WebhookEndpointFactory(
        project=acme.project, url="http://127.0.0.1:9/broken", failing_since=now
    )
    return Console(user, calendar, internal, external, failing, failing_endpoint)
