"""create_app(settings): the collector's FastAPI app, its lifespan and its routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from alerts.payloads import describe
from alerts.rules import RuleSet, load_rules
from alerts.runner import alerts_overview, retire_orphans
from alerts.service import start_alerting
from collector.access import ReadAccess
from collector.beacon_files import load_built, load_scripts
from collector.clientip import TrustedProxies
from collector.geo import GeoLookup
from collector.geo_refresh import start_geo_refresh
from collector.intake import BeaconIntake, Cors
from collector.metrics import Metrics
from collector.openapi import openapi_with_beacon
from collector.privacy import QueryAllowList
from collector.ratelimit import TokenBuckets, ip_rate_key
from collector.receivers.boomerang import BoomerangIntake
from collector.receivers.faro import FaroIntake
from collector.settings import Settings, is_loopback
from collector.sites import SiteRegistry
from collector.snippet import render_snippet
from collector.stages import build_stages
from pipeline.consumer import PipelineConsumer
from pipeline.schema import migrate
from pipeline.sinks import Sink, open_sink
from pipeline.store import Store, StoreError, open_store
from queries.catalog import ParamError, get_query, unknown_site, unknown_site_text
from queries.spec import parse_site
from rollups.scheduler import start_rollups

log = logging.getLogger(__name__)


ROLES = ("serve", "collector", "pipeline", "alerts")
# the built-in dashboard (dashboard/, built into dist/ by `make dashboard`): file -> media type
DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard" / "dist"
DASHBOARD_FILES = {"index.html": "text/html; charset=utf-8",
                   "dashboard.js": "text/javascript; charset=utf-8",
                   "dashboard-style.css": "text/css; charset=utf-8"}
DASHBOARD_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                 "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")


def create_app(settings: Settings, role: str = "serve") -> FastAPI:
    """Build the app; clients (store, GeoIP, sink) open in the lifespan, not here.

    role "serve": everything in one process: intake, storage (embedded batcher, or
    Kafka producer + pipeline consumer when RUM_KAFKA_BOOTSTRAP is set), query API,
    alerts. "collector": intake producing to Kafka (the query API only when
    RUM_CLICKHOUSE_URL is set). "pipeline": the Kafka consumer writing to the store,
    with /healthz and /metrics. "alerts": the alert evaluator and webhook delivery,
    with /healthz, /metrics and the read side.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    metrics = Metrics()
    registry = SiteRegistry.load(settings.sites_file) if settings.sites_file else None
    cors = Cors(settings.allowed_origins, registry)
    ip_buckets = TokenBuckets(settings.rate_limit_ip, settings.rate_burst_ip, key=ip_rate_key)
    site_buckets = TokenBuckets(settings.rate_limit_site, settings.rate_burst_site)
    allow = QueryAllowList(settings.keep_query_params)
    intake_args = (settings.max_body_bytes, TrustedProxies(settings.trusted_proxies), cors, metrics,
                   settings.geo_country_header, ip_buckets)
    intake = BeaconIntake(*intake_args)
    # the receivers of other agents' formats (docs/agents.md): one pipeline after decoding
    receivers = {"/collect": FaroIntake(*intake_args, registry=registry),
                 "/v1/boomerang": BoomerangIntake(*intake_args, registry=registry)}
    access = ReadAccess(settings)
    ruleset = (load_rules(settings.alert_rules)
               if settings.alert_rules and role in ("serve", "alerts") else None)
    takes_beacons = role in ("serve", "collector")
    consumes = role == "pipeline" or (role == "serve" and bool(settings.kafka_bootstrap))
    has_store = role != "collector" or settings.clickhouse_url is not None
    rolls = role in ("serve", "pipeline")  # the roles that write the store keep rollups

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await asyncio.to_thread(open_store, settings) if has_store else None
        geo = GeoLookup(settings.city_db, settings.geoip_asn_db)
        app.state.geo = geo  # /healthz: which database (DB-IP asks for credit)
        sink: Sink | None = None
        consumer: PipelineConsumer | None = None
        try:
            if store is not None and role != "collector":
                await asyncio.to_thread(migrate, store, settings.retention_days)
            if takes_beacons:
                sink = open_sink(settings, store, metrics)
                sink.start()
                stages = build_stages(geo, registry, site_buckets, allow)
                for each in (intake, *receivers.values()):
                    each.bind(stages, sink)
                app.state.sink = sink
            if consumes:
                assert store is not None
                consumer = PipelineConsumer(settings, store, metrics)
                consumer.start()
                app.state.consumer = consumer
            app.state.store = store
            # the evaluator, or `rum serve` on its own embedded store (no other evaluator can
            # share it), closes the alerts of rules that no longer exist
            if store is not None and (ruleset is not None or (role == "serve" and settings.embedded)):
                await asyncio.to_thread(
                    retire_orphans, store, {r.name for r in ruleset.rules} if ruleset else set())
            alerting = (await start_alerting(settings, store, ruleset, metrics)
                        if ruleset is not None and store is not None else None)
            refreshing = start_geo_refresh(settings, geo) if takes_beacons else None
            app.state.geo_refresh = refreshing
            # last: nothing after it can fail and leave the task running on a closed store
            rolling = (start_rollups(store, settings, metrics)
                       if store is not None and rolls and settings.rollup_interval > 0 else None)
            log.info(f"{role} started", extra={
                "store": "none" if store is None else "chdb" if settings.embedded else "clickhouse",
                "kafka": settings.kafka_bootstrap or "none",
                "data_dir": str(settings.data_dir)})
            yield
            if refreshing is not None:
                await refreshing.close()
            if alerting is not None:
                await alerting.close()
            if rolling is not None:
                await rolling.close()
            left = await sink.close() if sink is not None else 0
            if consumer is not None:
                await consumer.close()
            log.info(f"{role} stopped", extra={"rows_not_written": left})
        finally:
            geo.close()
            if store is not None:
                await asyncio.to_thread(store.close)

    app = FastAPI(title="rum collector", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.intake = intake if takes_beacons else None
    app.state.registry = registry
    app.state.scripts = load_scripts(settings.beacon_dir)
    app.state.dashboard = load_built(settings.dashboard_dir or DASHBOARD_DIR, DASHBOARD_FILES)
    if takes_beacons:
        app.router.routes.append(Route("/v1/beacon", intake, methods=["POST", "OPTIONS"]))
        for path, receiver in receivers.items():
            app.router.routes.append(Route(path, receiver, methods=[*receiver.methods, "OPTIONS"]))
    _add_error_handlers(app, access)
    _add_routes(app, access, ruleset)
    return app


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _no_store(request: Request) -> JSONResponse | None:
    """The reply when this process cannot read the store (starting, or intake only)."""
    if not hasattr(request.app.state, "store"):
        return _error(503, "starting", "the collector is starting; retry shortly")
    if request.app.state.store is None:
        return _error(503, "no_store", "this collector only takes beacons; set "
                      "RUM_CLICKHOUSE_URL to serve queries from it")
    return None


def _add_error_handlers(app: FastAPI, access: ReadAccess) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405 and access.hides(request):
            return _error(404, "not_found", "Not Found")
        names = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, names.get(exc.status_code, "http_error"), str(exc.detail),
                      dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(400, "invalid_parameter", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return _error(500, "internal_error", "unexpected error; see the server log")


def _add_routes(app: FastAPI, access: ReadAccess, ruleset: RuleSet | None) -> None:
    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        sink: Sink | None = getattr(request.app.state, "sink", None)
        consumer: PipelineConsumer | None = getattr(request.app.state, "consumer", None)
        settings: Settings = request.app.state.settings
        geoip = ("city_db" if settings.city_db
                 else "country_header" if settings.geo_country_header else "missing")
        geo: GeoLookup | None = getattr(request.app.state, "geo", None)
        reply: dict[str, Any] = {"status": "ok", "pending_rows": sink.pending if sink else 0, "geoip": geoip,
                                 "geoip_database": geo.city_kind if geo is not None else ""}
        if consumer is not None:
            reply["consumer"] = "connected" if consumer.ready else "connecting"
        return reply

    @app.get("/metrics")
    async def metrics_text(request: Request) -> Response:
        if refused := access.refuse(request):
            return refused
        body = generate_latest(request.app.state.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        if refused := access.refuse(request):
            return refused
        return JSONResponse(openapi_with_beacon(request.app))

    @app.get("/v1/alerts")
    async def alerts(request: Request) -> JSONResponse:
        if refused := access.refuse(request):
            return refused
        if (refused := _no_store(request)) is not None:
            return refused
        try:
            overview = await asyncio.to_thread(alerts_overview, request.app.state.store)
        except StoreError:
            return _error(503, "store_unavailable", "the store could not answer; retry later")
        # the value in words and units against the threshold, for the rules this process knows
        rules = {r.name: r for r in ruleset.rules} if ruleset is not None else {}
        for row in (*overview["active"], *overview["recent"]):
            rule = rules.get(row["rule"])
            row["text"] = describe(rule, row["value"]) if rule is not None else None
        return JSONResponse(overview)

    @app.get("/v1/query/{name}")
    async def run_query(name: str, request: Request) -> JSONResponse:
        if refused := access.refuse(request):
            return refused
        if (refused := _no_store(request)) is not None:
            return refused
        raw = dict(request.query_params)
        if len(raw) != len(request.query_params.multi_items()):
            return _error(400, "invalid_parameter", "each parameter may be given once")
        try:
            spec = get_query(name)
            values = spec.parse(raw)
        except ParamError as exc:
            status = 404 if str(exc).startswith("unknown query") else 400
            return _error(status, "unknown_query" if status == 404 else "invalid_parameter",
                          str(exc))
        store: Store = request.app.state.store
        try:
            rows = await asyncio.to_thread(spec.run, store, values)
            known = None if rows else await asyncio.to_thread(unknown_site, store, values)
        except StoreError as exc:
            log.error("query failed", extra={"query": name, "error": str(exc)})
            return _error(503, "store_unavailable", "the store could not answer; retry later")
        if known is not None:
            return JSONResponse({"error": "unknown_site", "detail": unknown_site_text(values["site"], known),
                                 "known_sites": known}, status_code=404)
        return JSONResponse({"query": name, "params": values, "rows": rows})

    @app.get("/v1/snippet")
    async def snippet(request: Request, site: str, attribution: bool = False) -> Response:
        try:
            parse_site(site)
        except ParamError as exc:
            return _error(400, "invalid_parameter", str(exc))
        if not site:
            return _error(400, "invalid_parameter", "site: is required")
        registry: SiteRegistry | None = request.app.state.registry
        known = registry.get(site) if registry is not None else None
        if registry is not None and known is None:
            return _error(404, "unknown_site", "site key is not registered")
        intake_url: str | None = request.app.state.settings.intake_url
        base = intake_url or str(request.base_url)
        rate = known.sample_rate if known is not None else None
        text = render_snippet(base, site, attribution, rate)
        if intake_url is None and is_loopback(request.url.hostname or ""):
            warning = (f"this snippet points at {base.rstrip('/')}, a loopback address that visitors' "
                       "browsers cannot reach: set RUM_INTAKE_URL to the collector's public URL")
            return PlainTextResponse(f"<!-- rum: {warning} -->\n{text}", headers={"x-rum-warning": warning})
        return PlainTextResponse(text)

    for script_name in ("rum.js", "rum.attribution.js"):
        _add_script_route(app, script_name)
    _add_dashboard_routes(app, access)


def _add_dashboard_routes(app: FastAPI, access: ReadAccess) -> None:
    """GET / and /dashboard/{file}: the built-in dashboard, read side like the query API."""

    def reply(request: Request, name: str) -> Response:
        if refused := access.refuse(request):
            return refused
        found = request.app.state.dashboard.get(name) if name in DASHBOARD_FILES else None
        if found is None:
            known = name in DASHBOARD_FILES
            return _error(404, "not_built" if known else "not_found",
                          "the dashboard is not built; run `make dashboard`" if known else "Not Found")
        return Response(found.body, media_type=DASHBOARD_FILES[name], headers={
            "Cache-Control": "no-cache", "Content-Security-Policy": DASHBOARD_CSP,
            "X-Content-Type-Options": "nosniff"})

    @app.get("/", include_in_schema=False)
    async def dashboard(request: Request) -> Response:
        return reply(request, "index.html")

    @app.get("/dashboard/{name}", include_in_schema=False)
    async def dashboard_asset(name: str, request: Request) -> Response:
        return reply(request, name if name != "index.html" else "")


def _add_script_route(app: FastAPI, name: str) -> None:
    @app.get(f"/{name}", name=name)
    async def script(request: Request) -> Response:
        found = request.app.state.scripts.get(name)
        if found is None:
            return _error(404, "not_built", f"{name} is not built; run `make beacon`")
        headers = {
            "ETag": found.etag,
            "Cache-Control": "public, max-age=86400, stale-while-revalidate=604800",
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        if request.headers.get("if-none-match") == found.etag:
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type="text/javascript; charset=utf-8", headers=headers)
