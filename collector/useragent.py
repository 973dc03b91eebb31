"""User-agent enrichment: browser, OS, device class and bot flag, via ua-parser (uap-core)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

MAX_UA_LENGTH = 512
# uap-core marks crawlers as device family "Spider"; these catch what it misses
_BOT_RE = re.compile(r"bot\b|crawl|spider|slurp|facebookexternalhit|python-requests|curl/|wget/"
                     # headless and automated browsers: HeadlessChrome, PhantomJS, Puppeteer,
                     # Playwright, Selenium and any other "Headless" marker
                     r"|headless|phantomjs|puppeteer|playwright|selenium|webdriver", re.I)
_TABLET_RE = re.compile(r"ipad|tablet|kindle|silk|playbook", re.I)


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What a user agent says about the visitor's software and device."""

    browser: str
    browser_version: str
    os: str
    device_class: str  # desktop, mobile, tablet, bot
    is_bot: bool


@lru_cache(maxsize=16384)
def parse_user_agent(ua: str) -> AgentInfo:
    """Parse a user-agent string (cached: real traffic has few distinct agents)."""
    ua = ua[:MAX_UA_LENGTH]
    if not ua:
        return AgentInfo("", "", "", "desktop", False)
    result = parse(ua)
    browser = result.user_agent.family if result.user_agent else "Other"
    version = result.user_agent.major or "" if result.user_agent else ""
    os_name = result.os.family if result.os else "Other"
    device = result.device.family if result.device else ""
    is_bot = device == "Spider" or bool(_BOT_RE.search(ua))
    if is_bot:
        device_class = "bot"
    elif _TABLET_RE.search(ua) or (os_name == "Android" and "Mobile" not in ua):
        device_class = "tablet"
    elif os_name in ("iOS", "Android") or "Mobi" in ua:
        device_class = "mobile"
    else:
        device_class = "desktop"
    return AgentInfo(browser, version, os_name, device_class, is_bot)
