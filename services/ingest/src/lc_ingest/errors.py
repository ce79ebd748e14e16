"""Errors a client understands: `lc_common.http`'s envelope, under ingest's historical name."""

from __future__ import annotations

from lc_common.http import ServiceError

# Ingest's refusals are the common `ServiceError` (status, code, message).
ClientError = ServiceError

__all__ = ["ClientError"]
