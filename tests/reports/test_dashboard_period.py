"""The dashboard's period (issue 14): opens on data, real month pickers, inline messages."""

from __future__ import annotations

import lxml.html
import pytest

from needs_tracker.dashboard.views import parse_months


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def test_opens_on_the_latest_month_with_data_in_month_pickers(client, auth, world):
    auth.login("leader")
    doc = _page(client, "/dashboard/")
    start, end = doc.xpath('//input[@id="start"]')[0], doc.xpath('//input[@id="end"]')[0]
    assert start.get("type") == end.get("type") == "month"
    # The demo's data is in March 2021; both boxes hold values, no placeholder posing as one.
    assert (start.get("value"), end.get("value")) == ("2021-03", "2021-03")
    assert start.get("placeholder") is None
    assert end.get("placeholder") is None
    assert doc.xpath('//*[@data-kpi="visits"]')[0].text_content().strip() == "1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2021-03&end=2021-01", "结束月份 2021-01 早于开始月份 2021-03。"),
        ("start=March", "“March”不是有效的月份（格式为 YYYY-MM）。"),
        ("start=2021-01&end=2021-1", "“2021-1”不是有效的月份（格式为 YYYY-MM）。"),
    ],
)
def test_bad_range_is_answered_inline(client, auth, world, query, message):
    auth.login("leader")
    doc = _page(client, f"/dashboard/?{query}")
    alert = doc.xpath('//*[@id="period-error"]')[0]
    assert alert.get("role") == "alert"
    assert message in alert.text_content()
    assert doc.xpath('//input[@id="start"]')[0].get("aria-invalid") == "true"
    # The page still shows the default period's figures.
    assert doc.xpath('//*[@data-kpi="visits"]')


def test_parse_months():
    assert parse_months("2021-01", "2021-03", "2021-05") == ("2021-01", "2021-03", "")
    assert parse_months("", "", "2021-05") == ("2021-05", None, "")
    assert parse_months("2021-02", "", "2021-05") == ("2021-02", None, "")
