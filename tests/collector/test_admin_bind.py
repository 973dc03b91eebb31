"""A non-loopback admin listener without tokens would serve the read side with no auth."""

from __future__ import annotations

import pytest

from collector.settings import SettingsError, load_settings

TOKEN = "s3cret-token-0123456789"


def test_public_admin_listener_without_tokens_is_refused() -> None:
    with pytest.raises(SettingsError, match="RUM_ADMIN_HOST"):
        load_settings(None, admin_host="0.0.0.0", admin_port=9000)
    with pytest.raises(SettingsError, match="RUM_ADMIN_HOST"):
        load_settings(None, host="0.0.0.0", admin_host="::", admin_port=9000)


def test_public_admin_listener_with_tokens_or_loopback_is_fine() -> None:
    assert load_settings(None, admin_host="0.0.0.0", admin_port=9000,
                         api_tokens=TOKEN).admin_host == "0.0.0.0"
    assert load_settings(None, admin_host="::1", admin_port=9000).admin_port == 9000
    assert load_settings(None, admin_host="0.0.0.0").admin_port is None  # no listener at all
