# Dates as support staff read them in the admin (every read-only date and time, not only the
# columns that format their own): ISO order, 24-hour clock and the time zone's name, so a time
# is never ambiguous ("2026-12-02 06:30 UTC", not "Dec. 2, 2026, 6:30 a.m.").
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
