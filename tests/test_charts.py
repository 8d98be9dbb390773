"""core.charts: SVG charts rendered on the server, accessible and escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from markupsafe import Markup

from core.charts import bar_chart, line_chart, sparkline

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: Markup) -> ET.Element:
    # Our own output, not untrusted data: the standard parser is fine here.
    text = str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return ET.fromstring(text)  # noqa: S314


def test_bar_chart_has_a_title_a_description_and_one_bar_per_value():
    chart = bar_chart(
        ["Q1", "Q2", "Q3"],
        {"2025": [Decimal("10.50"), Decimal("-2"), None], "2026": [1, 2, 3]},
        "Turnover by quarter",
        unit="EUR",
    )
    assert isinstance(chart, Markup)
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Turnover by quarter"
    assert "Q1 10.50" in root.find(f"{SVG}desc").text
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 6
    assert bars[0].find(f"{SVG}title").text == "Q1, 2025: 10.50 EUR"
    assert all(float(r.get("height")) >= 0 for r in bars)
    assert "style" not in str(chart)


def test_labels_and_titles_are_escaped():
    chart = line_chart(["<b>x</b>"], {"a&b": [Decimal("1")]}, "<script>alert(1)</script>")
    text = str(chart)
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "a&amp;b" in text
    parse(chart)  # well-formed


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="series 'a'"):
        bar_chart(["Jan", "Feb"], {"a": [1]}, "Oops")


def test_empty_and_flat_charts_render():
    parse(bar_chart([], {}, "Nothing yet"))
    parse(line_chart(["a", "b"], {"zero": [0, 0]}, "Flat"))
    spark = sparkline([Decimal("1"), Decimal("3"), Decimal("2")], "Turnover by month")
    root = parse(spark)
    assert root.find(f"{SVG}title").text == "Turnover by month: 1, 3, 2"
    parse(sparkline([]))


def test_long_axis_labels_wrap_to_two_lines_and_the_rest_is_cut():
    labels = ["Conclude a new contract", "Provide an offer", "Develop a test product with care"]
    svg = str(bar_chart(labels, {"Open": [3, 5, 4]}, "By type", width=360))
    axis = re.findall(r'<text class="crm-chart-axis"[^>]*>(.*?)</text>', svg)
    lines = [re.findall(r"<tspan[^>]*>(.*?)</tspan>", text) for text in axis[-3:]]
    assert lines[0] == ["Conclude a new", "contract"]
    assert lines[1] == ["Provide an", "offer"]
    assert len(lines[2]) == 2 and lines[2][1].endswith("\u2026")
    # The whole label is still in each bar's tooltip.
    assert "<title>Develop a test product with care, Open: 4</title>" in svg
