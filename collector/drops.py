"""Why a beacon (or one of its events) is not stored: a typed reason each, with its HTTP reply.

Every reason is counted in /metrics (`rum_beacons_rejected_total{reason}` for whole
beacons, `rum_events_dropped_total{reason}` for single events) and has a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DropReason(StrEnum):
    """Every reason the collector refuses a whole beacon."""

    MALFORMED_JSON = "malformed_json"          # not JSON, not UTF-8, too deep
    BAD_ENCODING = "bad_encoding"              # gzip/deflate that does not inflate
    BODY_TOO_LARGE = "body_too_large"          # over RUM_MAX_BODY_BYTES, raw or inflated
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_ENVELOPE = "invalid_envelope"      # breaks docs/beacon-protocol.md
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"  # Origin not allowed (settings or registry)
    UNKNOWN_SITE = "unknown_site"              # site key not in the registry
    RATE_LIMITED_IP = "rate_limited_ip"        # client IP over its token bucket
    RATE_LIMITED_SITE = "rate_limited_site"    # site over its token bucket
    GPC_OPT_OUT = "gpc_opt_out"                # Sec-GPC: 1 and the site honours it (202)
    BACKPRESSURE = "backpressure"              # write buffer / spool full


class EventDropReason(StrEnum):
    """Reasons a single event inside an accepted beacon is left out."""

    STALE_TIMESTAMP = "stale_timestamp"        # more than a day before the receive time
    FUTURE_TIMESTAMP = "future_timestamp"      # later than the beacon was sent
    # the agents' receivers (collector/receivers/): a timing outside the protocol's range
    # is left out of the row; an error list that does not decode is left out whole
    OUT_OF_RANGE = "out_of_range"
    MALFORMED_ERRORS = "malformed_errors"


STATUS = {
    DropReason.MALFORMED_JSON: 400,
    DropReason.BAD_ENCODING: 400,
    DropReason.BODY_TOO_LARGE: 413,
    DropReason.UNSUPPORTED_MEDIA_TYPE: 415,
    DropReason.INVALID_ENVELOPE: 422,
    DropReason.ORIGIN_NOT_ALLOWED: 403,
    DropReason.UNKNOWN_SITE: 403,
    DropReason.RATE_LIMITED_IP: 429,
    DropReason.RATE_LIMITED_SITE: 429,
    DropReason.GPC_OPT_OUT: 202,
    DropReason.BACKPRESSURE: 503,
}


@dataclass(frozen=True, slots=True)
class Dropped:
    """A beacon stopped by a stage: the reason, a detail for the client, when to retry."""

    reason: DropReason
    detail: str
    retry_after: float | None = None

    @property
    def status(self) -> int:
        """HTTP status answered for this drop."""
        return STATUS[self.reason]
