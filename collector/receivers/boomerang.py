"""GET and POST /v1/boomerang: Boomerang's beacons (boomerangjs, the agent of mPulse and basicrum).

A beacon is a flat list of parameters: in the query string (an image beacon, GET) or an
application/x-www-form-urlencoded body (sendBeacon, POST). It becomes one v1 Envelope
(docs/agents.md has the field mapping):
- the site is the `site` query parameter, or the site `h.key` stands for in the registry;
- the session is `rt.si`, the page view `pid`, the flush number the beacon number `n`;
- the page-load beacon (and `http.initiator=spa_hard`) -> navigation timing from the
  `nt_*` epoch times, TTFB (`nt_res_st - nt_nav_st`), `pt.fcp`, `pt.lcp` and its
  element and resource;
- the unload beacon (`rt.quit`) -> INP (`et.inp`, target `et.inp.e`) and the final CLS
  (`c.cls`: the page-load beacon's CLS is only the CLS so far, so it is not stored);
- a soft navigation (`http.initiator=spa`) -> a page view of type `soft` (load = `t_done`);
- a failed XHR/fetch beacon (`http.initiator=xhr` with `http.errno`) -> an api event;
- `err` (plugins/errors.js: JSURL, or JSON without the compression plugin) -> error
  events, each repeated as often as Boomerang counted it (`n`), within 100 events;
- `restiming` and the other plugins' parameters are not stored.
Boomerang sends no send time: the newest client timestamp in the beacon stands for it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote_plus

import orjson

from collector.drops import Dropped, DropReason, EventDropReason
from collector.intake import BodyError, Parsed, Receive, Reply, Scope, reply
from collector.protocol import MAX_EVENTS
from collector.receivers import jsurl
from collector.receivers.common import (
    MAX_FRAMES,
    Notes,
    ReceiverIntake,
    as_number,
    envelope,
    frame_line,
    ident,
    source_line,
)

# a beacon's parameters; Boomerang's biggest (restiming) is dropped unread
MAX_PARAMS = 500
_NAV_TYPES = {"0": "navigate", "1": "reload", "2": "back_forward"}
# protocol nav field -> (end, start) of the nt_* epoch times ('' start = navigation start)
_NAV = {"dns": ("nt_dns_end", "nt_dns_st"), "connect": ("nt_con_end", "nt_con_st"),
        "tls": ("nt_con_end", "nt_ssl_st"), "request": ("nt_res_st", "nt_req_st"),
        "response": ("nt_res_end", "nt_res_st"), "dom_interactive": ("nt_domint", ""),
        "dom_complete": ("nt_domcomp", ""), "load": ("nt_load_end", "")}
# epoch-ms parameters: the newest one stands for the send time
_CLOCKS = ("rt.end", "rt.tstart", "nt_load_end", "nt_domcomp", "c.lb")


def params(query: str) -> dict[str, str] | Dropped:
    """A beacon's parameters (the last of a repeated name wins). As parse_qsl with
    keep_blank_values and strict UTF-8, at a third of its cost: only a piece with '%' or
    '+' is unquoted, and restiming (most of a page-load beacon, not stored) is skipped."""
    pieces = [p for p in query.split("&") if p]
    if len(pieces) > MAX_PARAMS:
        return Dropped(DropReason.MALFORMED_JSON,
                       f"not a Boomerang beacon: more than {MAX_PARAMS} parameters")
    out: dict[str, str] = {}
    try:
        for piece in pieces:
            if piece.startswith("restiming="):
                continue
            key, _, value = piece.partition("=")
            if "%" in piece or "+" in piece:
                key = unquote_plus(key, errors="strict")
                value = unquote_plus(value, errors="strict")
            out[key] = value
    except UnicodeDecodeError as exc:
        return Dropped(DropReason.MALFORMED_JSON, f"not a Boomerang beacon: {str(exc)[:120]}")
    return out


def boomerang_document(p: dict[str, str], notes: Notes, site: str | None = None,
                       now_ms: float | None = None) -> dict[str, Any]:
    """The v1 envelope document of one Boomerang beacon (validated by the caller)."""
    initiator = p.get("http.initiator", "")
    url = p.get("u", "")
    seq = as_number(p.get("n"))
    doc: dict[str, Any] = {
        "v": 1, "site": site or p.get("site", ""), "sid": ident(p.get("rt.si")),
        "pid": ident(p.get("pid")), "url": url, "ref": p.get("r", ""),
        "seq": int(seq) if seq is not None and 0 <= seq <= 1000 else 0,
    }
    vitals: dict[str, float] = {}
    attribution: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    if "nt_nav_st" in p and initiator in ("", "spa_hard"):
        doc["nav"] = _nav(p, notes)
        start = as_number(p.get("nt_nav_st"))
        ttfb = as_number(p.get("nt_res_st"))
        if start is not None and ttfb is not None:
            _put(vitals, "ttfb", notes.timing(ttfb - start))
        _put(vitals, "fcp", notes.timing(p.get("pt.fcp")))
        _put(vitals, "lcp", notes.timing(p.get("pt.lcp")))
        _attribute(attribution, "lcp_element", p.get("pt.lcp.e") or p.get("pt.lcp.el"))
        _attribute(attribution, "lcp_resource", p.get("pt.lcp.src"))
    elif initiator == "spa":
        load = notes.timing(p.get("t_done"))
        doc["nav"] = {"type": "soft", **({"load": load} if load is not None else {})}
    if "rt.quit" in p:
        _put(vitals, "inp", notes.timing(p.get("et.inp")))
        _put(vitals, "cls", notes.timing(p.get("c.cls"), 100.0))
        _attribute(attribution, "inp_target", p.get("et.inp.e"))
    if initiator == "xhr" and p.get("http.errno"):
        events.append(_api_event(p, notes))
    if p.get("err"):
        events.extend(_errors(p["err"], url, notes))
    if vitals:
        doc["vitals"] = vitals
    if attribution:
        doc["attribution"] = attribution
    doc["events"] = events[:MAX_EVENTS]
    clocks = [as_number(p.get(k)) for k in _CLOCKS]
    clocks += [e["ts"] for e in events if e.get("ts") is not None]
    doc["sent_at"] = max((c for c in clocks if c is not None and 0 < c < 1e14),
                         default=now_ms or 0.0)
    return doc


def _put(target: dict[str, float], key: str, value: float | None) -> None:
    if value is not None:
        target[key] = value


def _attribute(target: dict[str, str], key: str, value: str | None) -> None:
    if value:
        target[key] = value


def _nav(p: dict[str, str], notes: Notes) -> dict[str, Any]:
    nav: dict[str, Any] = {"type": _NAV_TYPES.get(p.get("nt_nav_type", "0"), "navigate")}
    origin = as_number(p.get("nt_nav_st"))
    for field, (end_key, start_key) in _NAV.items():
        end = as_number(p.get(end_key))
        start = as_number(p.get(start_key)) if start_key else origin
        # a zero (or absent) time did not happen (e.g. no TLS handshake)
        if end and start:
            _put(nav, field, notes.timing(end - start))
    size = as_number(p.get("nt_trn_size"))
    if size is not None and 0 <= size <= 1e9:
        nav["transfer_size"] = size
    return nav


def _api_event(p: dict[str, str], notes: Notes) -> dict[str, Any]:
    status = as_number(p.get("http.errno"))
    event: dict[str, Any] = {"t": "api", "url": p.get("u", ""),
                             "method": (p.get("http.method") or "GET")[:16],
                             "status": int(status) if status is not None and 0 <= status <= 999 else 0}
    _put(event, "duration", notes.timing(p.get("t_done")))
    return event


def _errors(text: str, page_url: str, notes: Notes) -> list[dict[str, Any]]:
    """The `err` parameter's errors as protocol error events; one that does not decode is
    left out whole (noted as malformed_errors)."""
    try:
        # JSURL with Boomerang's compression plugin, JSON without it
        errors = jsurl.loads(text) if text.startswith("~") else _json(text)
    except (jsurl.JsurlError, ValueError):
        notes.dropped.append(EventDropReason.MALFORMED_ERRORS)
        return []
    if not isinstance(errors, list):
        notes.dropped.append(EventDropReason.MALFORMED_ERRORS)
        return []
    origin = _origin(page_url)
    out: list[dict[str, Any]] = []
    for error in errors:
        if not isinstance(error, dict):
            notes.dropped.append(EventDropReason.MALFORMED_ERRORS)
            continue
        event = _error_event(error, origin)
        count = as_number(error.get("n"))
        repeat = int(count) if count is not None and 1 <= count <= MAX_EVENTS else 1
        out.extend(dict(event) for _ in range(repeat))
        if len(out) >= MAX_EVENTS:
            break
    return out


def _json(text: str) -> Any:
    if len(text) > jsurl.MAX_ITEMS * 64:
        raise ValueError("err is too long")
    return orjson.loads(text)


def _error_event(error: dict[str, Any], origin: str) -> dict[str, Any]:
    kind = _text(error.get("t")) or "Error"
    message = _text(error.get("m"))
    text = f"{kind}: {message}" if message else kind
    frames = [f for f in error.get("f") or [] if isinstance(f, dict)][:MAX_FRAMES] \
        if isinstance(error.get("f"), list) else []
    lines = [frame_line(_text(f.get("f")), _frame_file(f, origin), f.get("l"), f.get("c")) for f in frames]
    event: dict[str, Any] = {"t": "error", "message": text, "stack": "\n".join([text, *lines])}
    stamp = _text(error.get("d"))
    try:
        ts = int(stamp, 36) if stamp else None
    except ValueError:
        ts = None
    if ts is not None and 0 < ts < 1e14:
        event["ts"] = float(ts)
    if frames:
        top = frames[0]
        event["source"] = _frame_file(top, origin)
        for key, short in (("line", "l"), ("col", "c")):
            value = source_line(top.get(short))
            if value is not None:
                event[key] = value
    return event


def _frame_file(frame: dict[str, Any], origin: str) -> str:
    """A frame's file: `w`, or the page's origin + `wo` (a file of the page's own origin)."""
    return _text(frame.get("w")) or (origin + _text(frame.get("wo")) if frame.get("wo") else "")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, (int, float)) else ""


def _origin(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if sep else ""


class BoomerangIntake(ReceiverIntake):
    """The ASGI app behind /v1/boomerang: GET (image beacon) and POST (sendBeacon)."""

    methods = ("GET", "POST")
    content_types = (b"application/x-www-form-urlencoded", b"text/plain")

    async def read(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        if scope["method"] == "GET":
            query: bytes = scope.get("query_string", b"")
            if len(query) > self.max_body:
                raise BodyError(Dropped(DropReason.BODY_TOO_LARGE,
                                        f"query string exceeds {self.max_body} bytes"))
            return query
        return await self._read_body(headers, receive)

    def parse(self, body: bytes, scope: Scope, headers: dict[bytes, bytes]) -> Parsed | Dropped:
        # the site (and an h.key) may be in the URL's query and the rest in the body
        url_params = params(scope.get("query_string", b"").decode("latin-1"))
        if isinstance(url_params, Dropped):
            return url_params
        found = params(body.decode("latin-1")) if scope["method"] == "POST" else url_params
        if isinstance(found, Dropped):
            return found
        p = {**url_params, **found}
        if not p.get("rt.si") and not p.get("pid"):
            return Dropped(DropReason.INVALID_ENVELOPE,
                           "not a Boomerang beacon: no session (rt.si) or page view (pid)")
        site = self.site_for_key(p.get("h.key"))
        if isinstance(site, Dropped):
            return site
        notes = Notes()
        env = envelope(boomerang_document(p, notes, site, time.time() * 1000.0))
        if isinstance(env, Dropped):
            return env
        return Parsed(envelope=env, dropped=tuple(notes.dropped))

    def accepted(self, cors: list[tuple[bytes, bytes]], rows: int) -> Reply:
        return reply(204, None, cors)
