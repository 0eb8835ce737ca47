from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calendars.models import Calendar
from calendars.sync import sync_calendar_by_id
from config.progress import Progress

BUSY_NOTE = " - another worker is syncing it; it syncs again when that one ends"


class Command(BaseCommand):
    help = "Sync calendars now, in this process (for support staff): ids, or --all connected ones."

    def add_arguments(self, parser):
        parser.add_argument("calendar_ids", nargs="*", metavar="CALENDAR_ID")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="all_calendars",
            help="Every calendar not disconnected.",
        )

    def handle(self, *args, calendar_ids, all_calendars, **options):
        if bool(calendar_ids) == all_calendars:
            raise CommandError("Give calendar ids or --all (not both).")
        if all_calendars:
            ids = list(Calendar.objects.live().order_by("created_at").values_list("pk", flat=True))
        else:
            try:
                found = set(
                    Calendar.objects.filter(pk__in=calendar_ids).values_list("pk", flat=True)
                )
            except ValidationError:
                raise CommandError("Calendar ids are UUIDs.") from None
            missing = [c for c in calendar_ids if c not in {str(f) for f in found}]
            if missing:
                raise CommandError(f"No calendar with id {', '.join(missing)}.")
            ids = list(found)
        failures = 0
        progress = Progress(len(ids), stream=self.stdout)
        for calendar_id in ids:
            result = sync_calendar_by_id(calendar_id)
            failures += result.status != "synced"
            note = BUSY_NOTE if result.status == "busy" else ""
            progress.advance(
                f"{calendar_id} {result.status}"
                f" (+{result.upserted} changed, -{result.deleted} removed"
                f"{', full' if result.full else ''}{', ' + result.error if result.error else ''})"
                f"{note}"
            )
        progress.finish()
        self.stdout.write(f"{len(ids) - failures} calendar(s) synced, {failures} not.")
        if failures:
            # Scripts and support staff must see that not everything synced (busy included).
            raise CommandError(f"{failures} of {len(ids)} calendar(s) did not sync.")
