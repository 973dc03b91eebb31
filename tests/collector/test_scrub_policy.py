"""One scrubbing policy for every stored string: each secret class of docs/privacy.md,
and a property test where no planted secret survives (issue #17)."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.pages import page_group, scrub_path, scrubbed_path
from collector.privacy import pseudonymize_user, scrub_props, scrub_text

CARD = "4111111111111111"


@pytest.mark.parametrize(("path", "scrubbed"), [
    ("/pay/4111111111111111/confirm", "/pay/:card/confirm"),
    ("/pay/4111-1111-1111-1111", "/pay/:card"),
    ("/pay/4111.1111.1111.1111", "/pay/:card"),
    ("/pay/4111%201111%201111%201111", "/pay/:card"),
    ("/pay/cc_4111111111111111", "/pay/cc_:card"),
    ("/users/dave%40example.com/profile", "/users/:email/profile"),
    ("/users/dave%40EXAMPLE.com", "/users/:email"),
    ("/users/dave@example.com", "/users/:email"),
    ("/cart;jsessionid=0A1B2C3D4E", "/cart;jsessionid=:secret"),
    ("/reset/token=abc123/next", "/reset/token=:secret/next"),
    ("/product/1234", "/product/1234"),                     # ordinary ids are kept
    ("/search/caf%C3%A9", "/search/caf%C3%A9"),             # nothing found: encoding kept
    ("/order/1234567890123", "/order/1234567890123"),       # not Luhn-valid
])
def test_paths(path: str, scrubbed: str) -> None:
    assert scrub_path(path) == scrubbed
    assert scrubbed_path("https://shop.example.com" + path + "?email=a@b.co#x") == scrubbed


def test_page_groups_never_hold_what_the_path_scrub_removes() -> None:
    assert page_group("/pay/4111-1111-1111-1111") == "/pay/:card"
    assert page_group("/pay/4111111111111111/confirm") == "/pay/:card/confirm"
    assert page_group("/users/dave%40example.com/profile") == "/users/:email/profile"
    assert page_group("/product/1234") == "/product/:id"


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("card cc_4111111111111111 declined", "card cc_[scrubbed] declined"),
    ("card 4111.1111.1111.1111 declined", "card [scrubbed] declined"),
    ("ref 12 4111 1111 1111 1111", "ref 12 [scrubbed]"),
    ("mail dave%40example.com failed", "mail [scrubbed] failed"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "Authorization: [scrubbed] [scrubbed]"),
    ("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "sent Bearer [scrubbed]"),
    ("header Basic dXNlcjpodW50ZXIy", "header Basic [scrubbed]"),
    ("Basic plan chosen", "Basic plan chosen"),
    ("fetch https://api.example.com/v1/cart?user=dave&k=1#top failed",
     "fetch https://api.example.com/v1/cart failed"),
    ("GET /api/cart?coupon=XYZ 500", "GET /api/cart 500"),
    ("what? and #1", "what? and #1"),
])
def test_free_text(text: str, scrubbed: str) -> None:
    assert scrub_text(text) == scrubbed


def test_a_stack_frame_keeps_its_line_and_column_but_not_the_page_query() -> None:
    one = "Error: x\n    at f (https://shop.example.com/checkout?step=2&sid=abc:1:200)"
    two = "Error: x\n    at f (https://shop.example.com/checkout?step=3#pay:1:200)"
    assert scrub_text(one) == scrub_text(two) == "Error: x\n    at f (https://shop.example.com/checkout:1:200)"
    firefox = "f@https://shop.example.com/checkout?step=2:1:200"
    assert scrub_text(firefox) == "f@https://shop.example.com/checkout:1:200"


def test_event_names_property_keys_and_values() -> None:
    assert scrub_text("signup dave@example.com") == "signup [scrubbed]"
    props = scrub_props({"dave@example.com": "x", "card": CARD, "api_key": "k", "n": 3})
    assert props == {"[scrubbed]": "x", "card": "[scrubbed]", "api_key": "[scrubbed]", "n": 3}
    assert pseudonymize_user("dave%40example.com").startswith("h:")


# ---- property test: planted secrets never survive ----------------------------------------

FILLER = st.text(alphabet="ioIOèßé .,;:!()'\"-_\n\t", max_size=30)  # no letter of VALUE
VALUE = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz", min_size=12, max_size=24)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid 13-19 digit number."""
    body = draw(st.text(alphabet="0123456789", min_size=12, max_size=18))
    for check in "0123456789":
        digits = body + check
        total = sum((int(c) * 2 - 9 if int(c) > 4 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str]:
    """(text holding a secret, the secret part that must not survive)."""
    kind = draw(st.sampled_from(["card", "email", "bearer", "basic", "pair", "url", "frame"]))
    value = draw(VALUE)
    if kind == "card":
        digits = draw(card_numbers())
        sep = draw(st.sampled_from(["", " ", "-", "."]))
        grouped = sep.join(digits[i:i + 4] for i in range(0, len(digits), 4))
        glue = draw(st.sampled_from(["", "cc_", "no", "x."]))
        return glue + grouped, digits
    if kind == "email":
        at = draw(st.sampled_from(["@", "%40"]))
        address = f"{value.lower()}{at}mail-{value[:4].lower()}.example.org"
        return address, value.lower()
    if kind == "bearer":
        return f"Authorization: {draw(st.sampled_from(['Bearer', 'bearer']))} {value}.9z", value
    if kind == "basic":
        token = base64.b64encode(f"dave:{value}".encode()).decode()
        return f"Basic {token}", token
    if kind == "pair":
        key = draw(st.sampled_from(["password", "token", "api_key", "session_id", "secret"]))
        return f"{key}={value}", value
    if kind == "url":
        return f"https://shop.example.com/p/q?{draw(st.sampled_from(['a', 'ref']))}={value}#f", value
    return f"at g (https://shop.example.com/c?x={value}:1:9)", value


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(FILLER, planted()), min_size=1, max_size=3), FILLER)
def test_no_planted_secret_survives_scrub_text(parts: list[tuple[str, tuple[str, str]]],
                                               tail: str) -> None:
    text = "".join(f"{filler} {secret} " for filler, (secret, _) in parts) + tail
    out = scrub_text(text)
    digits = re.sub(r"\D", "", out)
    for _, (_, kept) in parts:
        assert kept not in out and kept not in unquote(out), (text, out)
        if kept.isdigit():
            assert kept not in digits, (text, out)


SEGMENT = st.sampled_from(["shop", "product", "1234", "a-b", "caf%C3%A9", "x_y", "v2"])


@st.composite
def planted_segment(draw: st.DrawFn) -> tuple[str, str]:
    """(path segment holding a secret, the secret part)."""
    kind = draw(st.sampled_from(["card", "email", "param", "pair"]))
    value = draw(VALUE)
    if kind == "card":
        digits = draw(card_numbers())
        sep = draw(st.sampled_from(["", "-", ".", "%20"]))
        glue = draw(st.sampled_from(["", "cc_", "n"]))
        return glue + sep.join(digits[i:i + 4] for i in range(0, len(digits), 4)), digits
    if kind == "email":
        return f"{value}{draw(st.sampled_from(['@', '%40']))}example.com", value
    if kind == "param":
        return f"cart;{draw(st.sampled_from(['jsessionid', 'PHPSESSID', 'token']))}={value}", value
    return f"{draw(st.sampled_from(['token', 'password', 'auth']))}={value}", value


@settings(max_examples=1500, deadline=None)
@given(st.lists(SEGMENT, max_size=3), planted_segment(), st.lists(SEGMENT, max_size=3))
def test_no_planted_secret_survives_scrub_path(before: list[str], secret: tuple[str, str],
                                               after: list[str]) -> None:
    path = "/" + "/".join([*before, secret[0], *after])
    for out in (scrub_path(path), page_group(path), scrubbed_path("https://h" + path)):
        assert secret[1] not in out and secret[1] not in re.sub(r"\D", "", unquote(out)), (path, out)
