"""The admin index is the support overview: what is failing, per project and overall, from a
fixed number of queries that the big tables answer through their indexes."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendars.models import CalendarSyncEvent
from tests.factories import BotFactory, CalendarFactory, WebhookDeliveryFactory

from .conftest import add_meetings, attempts

INDEX = reverse("admin:index")


def section(html: str, element_id: str) -> str:
    """The HTML of the element with this id, up to the next overview section."""
    start = html.index(f'id="{element_id}"')
    following = html.find('<div class="module" id="overview-', start + 1)
    return html[start : following if following != -1 else None]


def test_overview_lists_what_is_failing_in_every_project(staff, world, acme, globex):
    response = staff.get(INDEX)
    assert response.status_code == 200
    html = response.content.decode()

    health = section(html, "overview-health")
    assert "Acme" in health and "Globex" in health and "All projects" in health

    calendars = section(html, "overview-calendars")
    assert "broken@acme.example" in calendars
    assert "auth_revoked: Token has been revoked." in calendars
    assert reverse("admin:calendars_calendar_change", args=[world.failing_calendar.pk]) in calendars
    assert "fine@globex.example" not in calendars  # syncing: not listed

    bots = section(html, "overview-bots")
    assert "Stuck Notetaker" in bots and "Connection refused" in bots
    assert reverse("admin:bots_bot_change", args=[world.stuck_bot.pk]) in bots

    webhooks = section(html, "overview-webhooks")
    broken = webhooks[webhooks.index("hooks.acme.example/broken") :]
    assert "failing" in broken[:600] and "75%" in broken[:600]  # 3 of 4 attempts failed
    fine = webhooks[webhooks.index("hooks.globex.example/fine") :]
    assert "healthy" in fine[:600] and "0%" in fine[:600]

    queue = section(html, "overview-queue")
    assert "Queue backlog" in queue and "sweep-due-calendars" in queue

    charts = section(html, "overview-charts")
    assert charts.count("<svg") == 3
    assert "synced: 1; failed: 1" in charts  # the sync history of the last 24 h
    # Django's model list is still there, below the overview.
    assert reverse("admin:calendars_calendar_changelist") in html


def test_one_project_at_a_time(staff, world, acme, globex):
    html = staff.get(INDEX, {"project": str(acme.project.pk)}).content.decode()
    assert "broken@acme.example" in section(html, "overview-calendars")
    assert "Stuck Notetaker" not in section(html, "overview-bots")  # Globex's
    assert "hooks.globex.example" not in section(html, "overview-webhooks")
    html = staff.get(INDEX, {"project": str(globex.project.pk)}).content.decode()
    assert "broken@acme.example" not in section(html, "overview-calendars")
    assert "Stuck Notetaker" in section(html, "overview-bots")
    # A bad project id shows every project instead of failing.
    assert staff.get(INDEX, {"project": "not-a-uuid"}).status_code == 200


def grow(acme, globex, rows: int) -> None:
    """`rows` more of everything the overview counts, in both projects."""
    now = timezone.now()
    for project in (acme.project, globex.project):
        calendar = CalendarFactory(project=project, consecutive_sync_failures=2)
        add_meetings(calendar, rows)
        CalendarSyncEvent.objects.bulk_create(
            CalendarSyncEvent(calendar=calendar, kind="synced", at=now - timedelta(minutes=n))
            for n in range(rows)
        )
        for n in range(rows // 10):
            BotFactory(project=project, join_at=now + timedelta(minutes=n), backend_error="x")
        delivery = WebhookDeliveryFactory(endpoint__project=project)
        attempts(delivery, ok=rows // 20, failed=rows // 20)


def test_overview_runs_a_fixed_number_of_queries(
    staff, world, acme, globex, django_assert_max_num_queries
):
    # The bound does not depend on the row count: the page runs exactly as many queries with
    # 20 rows of everything (meetings, bots, attempts, sync history) as with 200.
    counts = []
    for rows in (20, 200):
        grow(acme, globex, rows)
        with django_assert_max_num_queries(25) as captured:
            assert staff.get(INDEX).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


BIG_TABLES = [
    "meetings_meeting",
    "bots_bot",
    "webhooks_webhookdelivery",
    "webhooks_webhookattempt",
    "calendars_calendarsyncevent",
]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans of PostgreSQL")
@pytest.mark.parametrize("scoped", [False, True], ids=["all-projects", "one-project"])
def test_overview_reads_the_big_tables_through_indexes(staff, world, acme, scoped):
    """Every query of the overview that touches a table growing with the meetings can be
    answered by an index: with sequential scans priced out, no plan needs one. (At 100k
    meetings the planner picks these indexes on its own; test tables are too small for it to
    bother, hence `enable_seqscan = off`.)"""
    grow(acme, acme, 20)
    with CaptureQueriesContext(connection) as captured:
        staff.get(INDEX, {"project": str(acme.project.pk)} if scoped else {})
    checked = 0
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            tables = [t for t in BIG_TABLES if f'"{t}"' in sql]
            if not tables or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scanned = set(re.findall(r"Seq Scan on (\w+)", plan))
            assert not scanned & set(tables), f"{sql}\n{plan}"
            checked += 1
    assert checked >= 5


def test_staff_without_access_to_calendars_see_no_overview(client, django_user_model, world):
    user = django_user_model.objects.create_user("intern", password="pw-123456", is_staff=True)
    client.force_login(user)
    html = client.get(INDEX).content.decode()
    assert 'id="overview-calendars"' not in html and "broken@acme.example" not in html


def test_a_retrying_calendar_is_failing_since_its_first_failure_after_the_last_success(staff, acme):
    now = timezone.now()
    calendar = CalendarFactory(
        project=acme.project,
        email="flaky@acme.example",
        consecutive_sync_failures=2,
        last_successful_sync_at=now - timedelta(hours=5),
        connection_failure_data={"error": "rate_limited", "timestamp": now.isoformat()},
    )
    for hours, kind in ((6, "failed"), (5.5, "synced"), (3, "failed"), (1, "failed")):
        CalendarSyncEvent.objects.create(
            calendar=calendar, kind=kind, at=now - timedelta(hours=hours)
        )
    html = section(staff.get(INDEX).content.decode(), "overview-calendars")
    row = html[html.index("flaky@acme.example") :]
    first = timezone.localtime(now - timedelta(hours=3))
    assert f"{first:%Y-%m-%d %H:%M} UTC" in row[:1500]
    assert "rate_limited" in row[:1500]
