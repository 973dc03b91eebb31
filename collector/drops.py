"""Why a beacon is not accepted: one typed reason per rejection, each with its HTTP reply."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DropReason(StrEnum):
    """Every reason the collector refuses a beacon; counted in /metrics by value."""

    MALFORMED_JSON = "malformed_json"
    BAD_ENCODING = "bad_encoding"
    BODY_TOO_LARGE = "body_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_ENVELOPE = "invalid_envelope"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    BACKPRESSURE = "backpressure"


STATUS = {
    DropReason.MALFORMED_JSON: 400,
    DropReason.BAD_ENCODING: 400,
    DropReason.BODY_TOO_LARGE: 413,
    DropReason.UNSUPPORTED_MEDIA_TYPE: 415,
    DropReason.INVALID_ENVELOPE: 422,
    DropReason.ORIGIN_NOT_ALLOWED: 403,
    DropReason.BACKPRESSURE: 503,
}


@dataclass(frozen=True, slots=True)
class Dropped:
    """A beacon stopped by a stage: the reason and a detail for the client."""

    reason: DropReason
    detail: str

    @property
    def status(self) -> int:
        """HTTP status answered for this drop."""
        return STATUS[self.reason]
