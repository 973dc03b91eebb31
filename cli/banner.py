"""The start-up banner `rum serve` (and the other roles) print on a terminal."""

from __future__ import annotations

import urllib.parse

from collector.settings import Settings, is_loopback


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host  # noqa: S104
    return f"http://{shown}:{port}"


def _without_password(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def banner(settings: Settings, role: str) -> str:
    """What a person starting `rum ROLE` needs first: where things are, what is missing."""
    public = _url(settings.host, settings.port)
    lines = [f"rum {role}: listening on {public} (JSON logs follow)"]
    if role in ("serve", "collector"):
        intake = settings.intake_url or public
        lines.append(f"  snippet    curl '{intake.rstrip('/')}/v1/snippet?site=YOUR-SITE'"
                     + ("" if settings.intake_url else "   (set RUM_INTAKE_URL)"))
    if role in ("serve", "pipeline", "alerts"):
        if settings.admin_port:
            read = _url(settings.admin_host, settings.admin_port)
            where = "admin listener" + (", bearer tokens" if settings.api_tokens else "")
        else:
            read = public
            where = ("bearer tokens" if settings.api_tokens else "loopback only"
                     if is_loopback(settings.host) else "NOT PROTECTED: set RUM_API_TOKENS")
        lines.append(f"  dashboard  {read}/   (read side: {where})")
    store = (f"ClickHouse {_without_password(settings.clickhouse_url)}" if settings.clickhouse_url
             else f"embedded chDB in {settings.data_dir.resolve() / 'chdb'}")
    queue = (f"Kafka {settings.kafka_bootstrap}" if settings.kafka_bootstrap
             else "none (the writer is in-process)")
    lines.append(f"  store      {store}")
    spool = f"; spool in {settings.data_dir.resolve() / 'spool'}" if role in ("serve", "collector") else ""
    lines.append(f"  queue      {queue}{spool}")
    if role in ("serve", "collector"):
        if settings.city_db:
            geo = f"{settings.city_db}"
        elif settings.geo_country_header:
            geo = f"country from the {settings.geo_country_header} header only"
        else:
            geo = "none: visitors' countries stay empty (run `rum geoip download`)"
        if role == "serve" and settings.geoip_db is None and settings.geoip_refresh_days > 0:
            days = f"{settings.geoip_refresh_days:g} days"
            geo = (f"{settings.city_db} (downloaded again when {days} old)" if settings.city_db
                   else f"none yet: downloading it now, and again when {days} old")
        lines.append(f"  GeoIP      {geo}")
    return "\n".join(lines) + "\n"
