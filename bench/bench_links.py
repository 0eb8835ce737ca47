"""Benchmark meeting-link detection: the whole test corpus and a typical 5 kB HTML invitation.

Run: .venv/bin/python bench/bench_links.py [--repeat N]
Prints microseconds per invitation (mean, p50, p99). The detection code does not need Django.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meetings.links import detect_meeting_link
from tests.meetings.link_corpus import CASES, TEAMS_HTML_2024

# What Outlook sends for a Teams meeting with a short agenda: document head, styles, body, footer.
TYPICAL_HTML = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    '<meta name="Generator" content="Microsoft Word 15 (filtered medium)"><style><!--'
    "@font-face {font-family:'Cambria Math'; panose-1:2 4 5 3 5 4 6 3 2 4;}"
    "@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}"
    "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0in; font-size:11.0pt; font-family:'Calibri',sans-serif;}"
    "a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}"
    '--></style></head><body lang="EN-US" link="#0563C1" vlink="#954F72"><div class="WordSection1">'
    '<p class="MsoNormal">Hi team,</p><p class="MsoNormal">&nbsp;</p>'
    '<p class="MsoNormal">Agenda for the quarterly planning session:</p><ol>'
    + "".join(
        f'<li class="MsoNormal">Item {i}: review of the <a href="https://contoso.sharepoint.com/sites/'
        f'planning/Shared%20Documents/q{i}.docx?d=w0a1b2c3&amp;csf=1&amp;web=1">Q{i} document</a></li>'
        for i in range(1, 6)
    )
    + "</ol>"
    + TEAMS_HTML_2024
)


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def measure(texts: list[str], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            detect_meeting_link(text)
            samples.append((time.perf_counter() - started) * 1e6)
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    print(
        f"{label:<44} n={len(samples):>6}  mean {statistics.fmean(samples):8.1f} µs"
        f"  p50 {percentile(ordered, 0.5):8.1f} µs  p99 {percentile(ordered, 0.99):8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus")
    args = parser.parse_args()

    texts = [case["text"] for case in CASES]
    measure(texts, 1)  # warm caches (zone lookups, regex compilation)
    found = sum(detect_meeting_link(t) is not None for t in texts)
    print(f"corpus: {len(texts)} invitations, {found} with a join link")
    report("corpus (every invitation)", measure(texts, args.repeat))
    report(
        "corpus, invitations with a join link",
        measure([c["text"] for c in CASES if c["platform"]], args.repeat),
    )
    report(
        "corpus, invitations without one",
        measure([c["text"] for c in CASES if not c["platform"]], args.repeat),
    )
    assert detect_meeting_link(TYPICAL_HTML) is not None
    report(f"typical HTML invitation ({len(TYPICAL_HTML):,} chars)", measure([TYPICAL_HTML], 2000))


if __name__ == "__main__":
    main()
