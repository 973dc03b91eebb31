"""scrub_text skips its regexes on text that cannot match; the result must be identical."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.privacy import (
    _CARD,
    _CREDENTIAL,
    _EMAIL,
    _SECRET_PAIR,
    SCRUBBED,
    _credential,
    _drop_url_tails,
    _scrub_cards,
    scrub_text,
)


def reference(text: str) -> str:
    """Every rule on every text, in scrub_text's order, without the prefilters."""
    if not text:
        return text
    text = _drop_url_tails(text)
    text = _CREDENTIAL.sub(_credential, text)
    text = _SECRET_PAIR.sub(lambda m: m.group(1) + SCRUBBED, text)
    text = _EMAIL.sub(SCRUBBED, text)
    return _CARD.sub(lambda m: _scrub_cards(m, SCRUBBED), text)


# pieces that make matches likely: secret words in odd cases and with the characters
# re.IGNORECASE treats as i/s/k, separators, digits in card-like groups, e-mail parts
PIECES = st.sampled_from([
    "password", "PassWD", "pwd", "Token", "secret", "AUTH_header", "session_id", "api-key",
    "apikey", "credentials", "credentİal", "credentıal", "paſſword", "toKen", "=", ":", " = ",
    '"', "'", " ", "-", "@", "a@b.co", "user.name+x@mail.example.org", "4111", "1111",
    "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "79927398713",
    "1 2 3 4 5 6 7 8 9 0 1 2 3", "١٢٣٤", "x", "at app.js:1:48213", "\n", "é", "ß",
    ".", "4111.1111.1111.1111", "cc_", "%40", "dave%40example.com", "Bearer", "BEARER",
    "baſic", "Basic", "\t", "dXNlcjpwYXNz", "abcdefgh1234", "?", "#", "/", "https://h/p",
    "?q=1", "#frag", ":12:7", "(", ")", "[", "İ", "ı", "PHPSESSID", "sid", "Sid", "inside",
])


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_prefiltered_scrub_equals_the_plain_regexes(text: str) -> None:
    assert scrub_text(text) == reference(text)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_too(text: str) -> None:
    assert scrub_text(text) == reference(text)


def test_what_gets_scrubbed() -> None:
    assert scrub_text("card 4111 1111 1111 1111 end") == "card [scrubbed] end"
    assert scrub_text("password=hunter2&x=1") == "password=[scrubbed]&x=1"
    assert scrub_text("credentİal: s3cr3t") == "credentİal: [scrubbed]"
    assert scrub_text("write to a.b@example.com") == "write to [scrubbed]"
    stack = "TypeError: x\n    at f (https://shop.example.com/static/app.js:1:48213)\n"
    assert scrub_text(stack) == stack
