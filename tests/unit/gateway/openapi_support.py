"""The OpenAPI document of one API router, and the check that an operation shows examples."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from lc_gateway.api import API_PREFIX


def router_document(router: APIRouter) -> dict[str, Any]:
    """The OpenAPI document of an app serving only this router, under the API prefix."""
    app = FastAPI()
    app.include_router(router, prefix=API_PREFIX)
    return app.openapi()


def router_operations(router: APIRouter) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every route of the router."""
    return [
        (method, path, operation)
        for path, methods in router_document(router)["paths"].items()
        for method, operation in methods.items()
    ]


def has_example(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a media type shows an example, itself or through its schema."""
    if "example" in media or "examples" in media:
        return True
    ref = media.get("schema", {}).get("$ref", "")
    return bool(ref) and "examples" in schemas[ref.rsplit("/", 1)[-1]]


def assert_examples(router: APIRouter, method: str, path: str, operation: dict[str, Any]) -> None:
    """Every request body and every answer with a body of the operation shows an example."""
    schemas = router_document(router)["components"]["schemas"]
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        assert has_example(media, schemas), (method, path, "request", media_type)
    for status, answer in operation["responses"].items():
        for media_type, media in answer.get("content", {}).items():
            assert has_example(media, schemas), (method, path, status, media_type)
