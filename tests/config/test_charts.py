"""The admin's charts are SVG text: accessible, escaped, and readable by a test."""

from datetime import UTC, datetime, timedelta

from config import charts

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_bars_carry_their_numbers_in_titles():
    svg = charts.stacked_bars(
        title="Syncs <last 24 h>",
        labels=["08:00", "09:00"],
        series=[charts.Series("ok", "good", [3, 0]), charts.Series("failed", "bad", [1, 2])],
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and "aria-labelledby" in svg
    assert "Syncs &lt;last 24 h&gt;" in svg and "<last" not in svg
    assert "<title>08:00: ok 3, failed 1</title>" in svg
    assert "In total ok: 3; failed: 3." in svg
    assert svg.count("<rect") == 3 + 2  # three non-empty bar parts, two legend swatches


def test_time_axis_links_blocks_and_escapes_text():
    row = charts.Row(
        "a-very-long-calendar-address@example.com",
        blocks=[
            charts.Block(NOW, NOW + timedelta(hours=1), "good", 'Board "review" & <b>', "/m/1")
        ],
        markers=[charts.Marker(NOW - timedelta(minutes=2), "accent", "bot joins", "/b/1")],
    )
    svg = charts.time_axis(
        title="Week", start=NOW, end=NOW + timedelta(days=2), rows=[row], legend=[("ok", "good")]
    )
    assert '<a href="/m/1"><rect class="block' in svg and '<a href="/b/1"><path' in svg
    assert "Board &quot;review&quot; &amp; &lt;b&gt;" in svg and "<b>" not in svg
    assert "<title>a-very-long-calendar-address@example.com</title>" in svg  # full label
    assert "…" in svg  # the visible label is shortened to fit
    # A marker before the axis starts is drawn at its edge, not outside the picture.
    assert 'd="M170.0 ' in svg
