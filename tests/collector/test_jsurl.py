"""The JSURL decoder of Boomerang's `err` parameter: what Boomerang writes, and what it must refuse."""

from __future__ import annotations

import pytest

from collector.receivers import jsurl


def test_decodes_what_boomerang_writes() -> None:
    text = "~(~(d~'mx79x20f~f~(~(c~32~l~22~wo~'*2fboomerang*2f))~m~'checkout*20widget!*2a**20ac~v~2))"
    assert jsurl.loads(text) == [{"d": "mx79x20f", "f": [{"c": 32, "l": 22, "wo": "/boomerang/"}],
                                  "m": "checkout widget$*\u20ac", "v": 2}]
    assert jsurl.loads("~(a~true~b~false~c~null~d~-1.5e3~e~(~)~f~())") == {
        "a": True, "b": False, "c": None, "d": -1500.0, "e": [], "f": {}}


@pytest.mark.parametrize("text", [
    "", "(~1)", "~(~1", "~(a~1", "~'x*2", "~'x*zz", "~(a~1!)", "~1~2", "~nope", "~(a)",
    "~(" * 9 + "~1" + ")" * 9,                 # deeper than 8
    "~(" + "~1" * 1001 + ")",                  # more than 1000 values
])
def test_refuses_what_is_not_jsurl_or_breaks_a_cap(text: str) -> None:
    with pytest.raises(jsurl.JsurlError):
        jsurl.loads(text)
