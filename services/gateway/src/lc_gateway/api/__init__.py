"""Public API v1 (DESIGN.md section 5) and the internal endpoint for peers."""

from __future__ import annotations

from fastapi import APIRouter

from lc_gateway.api import batches, billing, internal, webhooks

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every `/api/v1` route."""
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(batches.router)
    router.include_router(billing.router)
    router.include_router(webhooks.router)
    return router


__all__ = ["API_PREFIX", "api_router", "internal"]
