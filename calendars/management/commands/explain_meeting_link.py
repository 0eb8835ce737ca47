import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calendars.providers import get_provider
from meetings.links import Candidate, explain_text, invite_fields
from meetings.models import Meeting


class Command(BaseCommand):
    help = (
        "Explain which join link is detected for a stored meeting (--meeting) or a text "
        "(--text, or stdin), and why every other URL was passed over."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--meeting", help="Id of a stored meeting")
        source.add_argument("--text", help="Invitation text or HTML (default: read stdin)")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print machine-readable JSON"
        )

    def handle(self, *args, meeting=None, text=None, as_json=False, **options):
        if meeting:
            stored = self._load(meeting)
            candidates = _meeting_candidates(stored)
            header = [
                f"Meeting {stored.pk} {stored.title!r} ({stored.calendar.platform} calendar)",
                f"Stored link: {stored.meeting_platform or '-'} {stored.meeting_url or '-'}",
            ]
        else:
            if text is None:
                if sys.stdin.isatty():
                    raise CommandError("Pass --meeting <id>, --text '...', or pipe text on stdin.")
                text = sys.stdin.read()
            candidates = explain_text(text)
            header = []
        if meeting:
            winner = _winner(candidates)
            current = winner.detection.url if winner else None
            if current != stored.meeting_url:
                header.append(
                    "Note: detection now differs from the stored link; the next sync updates it."
                )
        if as_json:
            self.stdout.write(_as_json(candidates))
        else:
            for line in header + _as_lines(candidates):
                self.stdout.write(line)

    def _load(self, meeting_id: str) -> Meeting:
        try:
            return Meeting.objects.select_related("calendar").get(pk=meeting_id)
        except (Meeting.DoesNotExist, ValidationError) as exc:
            raise CommandError(f"No meeting with id {meeting_id!r}.") from exc


def _meeting_candidates(meeting: Meeting) -> list[Candidate]:
    if meeting.raw:
        return get_provider(meeting.calendar.platform).explain_link(meeting.raw)
    # No provider payload stored: fall back to the text fields, in the same order of trust.
    return [
        *explain_text(meeting.location, source="location"),
        *explain_text(meeting.description, source="description"),
        *explain_text(meeting.title, source="title"),
    ]


def _winner(candidates: list[Candidate]) -> Candidate | None:
    return next((c for c in candidates if c.detection is not None), None)


def _as_lines(candidates: list[Candidate]) -> list[str]:
    winner = _winner(candidates)
    lines: list[str] = []
    if winner is None:
        lines.append("No join link detected.")
    else:
        found = winner.detection
        lines += [
            f"Detected: {found.platform} {found.url}",
            f"  from field:  {found.source}",
            f"  as written:  {found.raw_url}",
        ]
        if found.wrappers:
            lines.append(f"  unwrapped:   {' > '.join(found.wrappers)}")
        lines += [
            f"  meeting id:  {found.meeting_id or '-'}",
            f"  passcode:    {found.passcode or '-'}",
            f"  invite:      {json.dumps(found.invite)}",
        ]
    if not candidates:
        lines.append("No URLs found in the conference fields, location, body or title.")
        return lines
    lines.append("")
    lines.append("Candidates, in the order they are tried:")
    width = max(len(c.source) for c in candidates)
    for number, candidate in enumerate(candidates, 1):
        verdict, why = _verdict(candidate, winner)
        line = f"{number:>3}. [{verdict}] {candidate.source:<{width}}  {_short(candidate.raw_url)}"
        lines.append(line + (f"\n       -> {why}" if why else ""))
    return lines


def _verdict(candidate: Candidate, winner: Candidate | None) -> tuple[str, str]:
    if candidate is winner:
        return "chosen  ", ""
    if candidate.detection is not None:
        return "not used", f"also a {candidate.platform} join link, but an earlier one wins"
    reason = candidate.reason
    if candidate.unwrapped_url:
        reason += f"; target: {_short(candidate.unwrapped_url)}"
    return "rejected", reason


def _short(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _as_json(candidates: list[Candidate]) -> str:
    winner = _winner(candidates)
    found = winner.detection if winner else None
    payload = {
        "detection": None
        if found is None
        else {
            "platform": found.platform,
            "url": found.url,
            "meeting_id": found.meeting_id,
            "passcode": found.passcode,
            "source": found.source,
            "raw_url": found.raw_url,
            "wrappers": list(found.wrappers),
            "invite": found.invite,
        },
        "invites": invite_fields(found),
        "candidates": [
            {
                "source": c.source,
                "raw_url": c.raw_url,
                "unwrapped_url": c.unwrapped_url,
                "platform": c.platform,
                "accepted": c.detection is not None,
                "chosen": c is winner,
                "reason": c.reason,
            }
            for c in candidates
        ],
    }
    return json.dumps(payload, indent=2)
