from datetime import timedelta

import factory
from django.utils import timezone

from bots.models import Bot
from calendars.models import Calendar, CalendarUser, OAuthApp
from meetings.models import Meeting
from projects.models import Project
from webhooks.models import WebhookDelivery, WebhookEndpoint


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")


class OAuthAppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OAuthApp

    project = factory.SubFactory(ProjectFactory)
    platform = "google"
    client_id = factory.Sequence(lambda n: f"client-{n}.apps.googleusercontent.com")
    client_secret = factory.Sequence(lambda n: f"oauth-client-secret-{n}")


class CalendarUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarUser

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"user-{n}")


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Calendar

    project = factory.SubFactory(ProjectFactory)
    calendar_user = factory.SubFactory(
        CalendarUserFactory, project=factory.SelfAttribute("..project")
    )
    platform = "google"
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    refresh_token = factory.Sequence(lambda n: f"1//refresh-token-{n}")
    state = Calendar.State.CONNECTED


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    calendar = factory.SubFactory(CalendarFactory)
    project = factory.SelfAttribute("calendar.project")
    platform_event_id = factory.Sequence(lambda n: f"event{n}")
    ical_uid = factory.Sequence(lambda n: f"event{n}@google.com")
    title = "Weekly sync"
    start_time = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    end_time = factory.LazyAttribute(lambda m: m.start_time + timedelta(minutes=30))
    meeting_url = "https://meet.google.com/abc-defg-hij"
    meeting_platform = "google_meet"


class BotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bot

    project = factory.SubFactory(ProjectFactory)
    meeting_url = "https://meet.google.com/abc-defg-hij"
    join_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    name = "Meeting Notetaker"
    deduplication_key = factory.Sequence(lambda n: f"dedup-{n}")


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    project = factory.SubFactory(ProjectFactory)
    url = "https://hooks.example.com/calsync"
    secret = factory.Sequence(lambda n: f"whsec_signing-secret-{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    project = factory.SelfAttribute("endpoint.project")
    event_type = "calendar.update"
    payload = factory.LazyFunction(lambda: {"event": "calendar.update", "data": {}})
