"""Building many rows without Model.__init__: the same objects `Model(**row)` makes."""

import uuid

from bots.models import Bot
from config.db import bulk_insert, new_instances, random_uuids


def test_random_uuids_are_distinct_version_4_uuids():
    ids = random_uuids(500)
    assert len(set(ids)) == 500
    assert {(u.version, u.variant) for u in ids} == {(4, uuid.RFC_4122)}
    assert random_uuids(0) == []


def test_new_instances_are_what_the_constructor_makes(acme):
    row = {
        "project_id": acme.project.pk,
        "meeting_url": "https://zoom.us/j/1",
        "join_at": "2026-11-02T09:00:00Z",
        "name": "Notetaker",
        "deduplication_key": "k",
    }
    built = new_instances(Bot, [row, {**row, "deduplication_key": "other"}])
    made = Bot(**row)
    skip = {"id"}
    for instance in built[:1]:
        assert instance._state.adding and instance._state.db is None
        assert instance.id.version == 4
        for field in Bot._meta.concrete_fields:
            if field.attname not in skip:
                assert getattr(instance, field.attname) == getattr(made, field.attname)
    # Mutable defaults are one per object, as the constructor's.
    assert built[0].config is not built[1].config
    assert built[0].status_changes is not built[1].status_changes
    assert built[0].id != built[1].id
    assert built[1].deduplication_key == "other"


def test_new_instances_save_and_read_back(acme):
    row = {
        "project_id": acme.project.pk,
        "meeting_url": "https://zoom.us/j/1",
        "join_at": "2026-11-02T09:00:00Z",
        "name": "Notetaker",
    }
    bots = bulk_insert(
        Bot, new_instances(Bot, [{**row, "deduplication_key": str(n)} for n in range(3)])
    )
    saved = Bot.objects.filter(pk__in=[bot.pk for bot in bots])
    assert sorted(saved.values_list("deduplication_key", flat=True)) == ["0", "1", "2"]
    assert [(bot.status, bot.config, bot.metadata) for bot in saved] == [("scheduled", {}, {})] * 3


def test_any_of_matches_exactly_the_values_given_whatever_they_hold(acme):
    """One array parameter on PostgreSQL (IN elsewhere): quotes, backslashes, commas, braces,
    spaces and NULL-looking text are values like any other."""
    from config.db import AnyOf
    from meetings.models import Meeting
    from tests.factories import CalendarFactory, MeetingFactory

    calendar = CalendarFactory(project=acme.project)
    tricky = ['a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "ümlaut", ""]
    for event_id in [*tricky, "other"]:
        MeetingFactory(calendar=calendar, platform_event_id=event_id)
    found = Meeting.objects.filter(
        AnyOf("platform_event_id", tricky, "text"), calendar=calendar
    ).values_list("platform_event_id", flat=True)
    assert sorted(found) == sorted(tricky)
    assert not Meeting.objects.filter(AnyOf("platform_event_id", [], "text")).exists()


def test_bulk_json_text_means_what_the_standard_library_writes():
    """COPY's JSON text (orjson where it can) parses to what json.dumps with Django's encoder
    gives, for every kind of value a JSON field holds; what orjson refuses goes the slow way."""
    import json
    from datetime import UTC, date, datetime, time
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder

    from config.db import _json_text

    class Label(str):
        pass

    values = [
        {"a": [1, 2.5, None, True], "b": {"c": "ü\\"}},
        {"when": datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=UTC), "day": date(2026, 1, 2)},
        {"at": time(9, 30), "id": uuid.UUID(int=7), "amount": Decimal("1.10")},
        {"big": 2**70, 1: "int key"},
        [Label("sub")],
    ]
    for value in values:
        expected = json.dumps(value, cls=DjangoJSONEncoder)
        assert json.loads(_json_text(value, DjangoJSONEncoder)) == json.loads(expected)
