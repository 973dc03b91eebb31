"""Headless and automated browsers are bots, not visitors (issue #17)."""

from __future__ import annotations

import pytest

from collector.useragent import parse_user_agent

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "{} Safari/537.36")


@pytest.mark.parametrize("ua", [
    CHROME.format("HeadlessChrome/131.0.0.0"),
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
    CHROME.format("Chrome/131.0.0.0 Puppeteer"),
    CHROME.format("Chrome/131.0.0.0 Playwright/1.48"),
    CHROME.format("Chrome/131.0.0.0 Selenium"),
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 Headless",
])
def test_headless_markers_are_bots(ua: str) -> None:
    agent = parse_user_agent(ua)
    assert agent.is_bot and agent.device_class == "bot", ua


def test_an_ordinary_chrome_is_not() -> None:
    agent = parse_user_agent(CHROME.format("Chrome/131.0.0.0"))
    assert not agent.is_bot and agent.device_class == "desktop"
