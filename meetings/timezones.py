"""Resolve the time-zone names providers send: IANA, Windows (Graph), "(UTC-08:00) ..." labels."""

import re
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The Windows zones Exchange uses most; the rest falls back to an offset in the name, then UTC.
WINDOWS_TO_IANA = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "dateline standard time": "Etc/GMT+12",
    "utc-11": "Etc/GMT+11",
    "hawaiian standard time": "Pacific/Honolulu",
    "alaskan standard time": "America/Anchorage",
    "pacific standard time": "America/Los_Angeles",
    "pacific standard time (mexico)": "America/Tijuana",
    "us mountain standard time": "America/Phoenix",
    "mountain standard time": "America/Denver",
    "mountain standard time (mexico)": "America/Mazatlan",
    "central standard time": "America/Chicago",
    "central standard time (mexico)": "America/Mexico_City",
    "canada central standard time": "America/Regina",
    "central america standard time": "America/Guatemala",
    "eastern standard time": "America/New_York",
    "us eastern standard time": "America/Indiana/Indianapolis",
    "eastern standard time (mexico)": "America/Cancun",
    "sa pacific standard time": "America/Bogota",
    "venezuela standard time": "America/Caracas",
    "atlantic standard time": "America/Halifax",
    "sa western standard time": "America/La_Paz",
    "pacific sa standard time": "America/Santiago",
    "newfoundland standard time": "America/St_Johns",
    "e. south america standard time": "America/Sao_Paulo",
    "argentina standard time": "America/Argentina/Buenos_Aires",
    "sa eastern standard time": "America/Cayenne",
    "montevideo standard time": "America/Montevideo",
    "utc-02": "Etc/GMT+2",
    "azores standard time": "Atlantic/Azores",
    "cape verde standard time": "Atlantic/Cape_Verde",
    "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik",
    "morocco standard time": "Africa/Casablanca",
    "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest",
    "romance standard time": "Europe/Paris",
    "central european standard time": "Europe/Warsaw",
    "w. central africa standard time": "Africa/Lagos",
    "gtb standard time": "Europe/Bucharest",
    "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kyiv",
    "egypt standard time": "Africa/Cairo",
    "south africa standard time": "Africa/Johannesburg",
    "israel standard time": "Asia/Jerusalem",
    "jordan standard time": "Asia/Amman",
    "middle east standard time": "Asia/Beirut",
    "syria standard time": "Asia/Damascus",
    "turkey standard time": "Europe/Istanbul",
    "kaliningrad standard time": "Europe/Kaliningrad",
    "arabic standard time": "Asia/Baghdad",
    "arab standard time": "Asia/Riyadh",
    "belarus standard time": "Europe/Minsk",
    "russian standard time": "Europe/Moscow",
    "e. africa standard time": "Africa/Nairobi",
    "iran standard time": "Asia/Tehran",
    "arabian standard time": "Asia/Dubai",
    "azerbaijan standard time": "Asia/Baku",
    "georgian standard time": "Asia/Tbilisi",
    "caucasus standard time": "Asia/Yerevan",
    "afghanistan standard time": "Asia/Kabul",
    "west asia standard time": "Asia/Tashkent",
    "ekaterinburg standard time": "Asia/Yekaterinburg",
    "pakistan standard time": "Asia/Karachi",
    "india standard time": "Asia/Kolkata",
    "sri lanka standard time": "Asia/Colombo",
    "nepal standard time": "Asia/Kathmandu",
    "central asia standard time": "Asia/Almaty",
    "bangladesh standard time": "Asia/Dhaka",
    "myanmar standard time": "Asia/Yangon",
    "se asia standard time": "Asia/Bangkok",
    "n. central asia standard time": "Asia/Novosibirsk",
    "north asia standard time": "Asia/Krasnoyarsk",
    "china standard time": "Asia/Shanghai",
    "north asia east standard time": "Asia/Irkutsk",
    "singapore standard time": "Asia/Singapore",
    "w. australia standard time": "Australia/Perth",
    "taipei standard time": "Asia/Taipei",
    "ulaanbaatar standard time": "Asia/Ulaanbaatar",
    "tokyo standard time": "Asia/Tokyo",
    "korea standard time": "Asia/Seoul",
    "yakutsk standard time": "Asia/Yakutsk",
    "cen. australia standard time": "Australia/Adelaide",
    "aus central standard time": "Australia/Darwin",
    "e. australia standard time": "Australia/Brisbane",
    "aus eastern standard time": "Australia/Sydney",
    "west pacific standard time": "Pacific/Port_Moresby",
    "tasmania standard time": "Australia/Hobart",
    "vladivostok standard time": "Asia/Vladivostok",
    "central pacific standard time": "Pacific/Guadalcanal",
    "new zealand standard time": "Pacific/Auckland",
    "utc+12": "Etc/GMT-12",
    "fiji standard time": "Pacific/Fiji",
    "tonga standard time": "Pacific/Tongatapu",
    "samoa standard time": "Pacific/Apia",
    "line islands standard time": "Pacific/Kiritimati",
}

# "UTC+05:30", "GMT-8", "(UTC-08:00) Pacific Time (US & Canada)"
_OFFSET = re.compile(r"(?:UTC|GMT)\s?([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


@lru_cache(maxsize=256)
def resolve_zone(name: str | None) -> tzinfo:
    """A tzinfo for a provider zone name; UTC when it cannot be resolved."""
    if not name or not isinstance(name, str):
        return UTC
    name = name.strip()
    if name.lower().startswith("tzone://microsoft/"):
        name = name[len("tzone://microsoft/") :]
    iana = WINDOWS_TO_IANA.get(name.lower(), name)
    if len(iana) <= 64:
        try:
            return ZoneInfo(iana)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    m = _OFFSET.search(name[:64])
    if m:
        sign = -1 if m.group(1) == "-" else 1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours <= 14 and minutes < 60:
            return timezone(sign * timedelta(hours=hours, minutes=minutes))
    return UTC
