"""HTTP calls to the internal services, with one error policy.

A peer that does not answer becomes `UpstreamUnavailable` (503); a peer that
answers 5xx, or with our internal token refused, becomes `UpstreamFailed` (502);
any other 4xx is the client's problem and is passed through with its code and
message (a foreign batch answers 404 there, and so here).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from typing import Any

import httpx
import structlog

from lc_common.http import ACCOUNT_HEADER, INTERNAL_TOKEN_HEADER
from lc_gateway.errors import GatewayError, UpstreamFailed, UpstreamRejected, UpstreamUnavailable
from lc_gateway.metrics import UPSTREAM_ERRORS

log = structlog.get_logger(__name__)


class Upstream:
    """One internal service reached over HTTP on behalf of an account."""

    def __init__(self, name: str, client: httpx.AsyncClient, internal_token: str) -> None:
        self.name = name
        self._client = client
        self._token = internal_token

    def _headers(self, account_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {INTERNAL_TOKEN_HEADER: self._token, ACCOUNT_HEADER: account_id}
        headers.update(extra or {})
        return headers

    async def call(
        self,
        method: str,
        path: str,
        account_id: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        content: AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        """Send a request and return the decoded JSON answer, or raise a `GatewayError`."""
        extra = {"Content-Type": content_type} if content_type else None
        timeout = httpx.Timeout(read_timeout, connect=5.0) if read_timeout else None
        request = self._client.build_request(
            method,
            path,
            headers=self._headers(account_id, extra),
            json=json,
            params=params,
            content=content,
            timeout=timeout or httpx.USE_CLIENT_DEFAULT,
        )
        try:
            response = await self._client.send(request)
        except httpx.TransportError as exc:
            self._unavailable(exc)
        except GatewayError:
            raise
        await self.check(response)
        try:
            return response.json()
        except ValueError:
            UPSTREAM_ERRORS.labels(self.name, "bad_status").inc()
            raise UpstreamFailed(self.name, "an answer that is not JSON") from None

    async def open_stream(
        self, method: str, path: str, account_id: str, *, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """Send a request and return the response with its body not yet read.

        The caller must `aclose()` the response. Errors are raised as in `call`.
        """
        request = self._client.build_request(
            method, path, headers=self._headers(account_id), params=params
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            self._unavailable(exc)
        if response.is_success:
            return response
        try:
            await response.aread()
        except httpx.TransportError as exc:
            self._unavailable(exc)
        finally:
            await response.aclose()
        await self.check(response)
        return response  # pragma: no cover - check() raised for every non-2xx

    def _unavailable(self, exc: Exception) -> Any:
        UPSTREAM_ERRORS.labels(self.name, "unavailable").inc()
        log.warning("upstream_unavailable", upstream=self.name, error=repr(exc))
        raise UpstreamUnavailable(self.name) from exc

    async def check(self, response: httpx.Response) -> None:
        """Raise the `GatewayError` that a non-2xx answer means; return on 2xx."""
        if response.is_success:
            return
        status = response.status_code
        if status >= 500 or status in (401, 403):
            # 401/403 mean our internal token was refused: our fault, not the client's.
            UPSTREAM_ERRORS.labels(self.name, "bad_status").inc()
            log.error("upstream_failed", upstream=self.name, status=status)
            raise UpstreamFailed(self.name, f"status {status}")
        code, message = _error_of(response)
        raise UpstreamRejected(message, status=status, code=code)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """The `(code, message)` of a peer's error answer, tolerating other shapes."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code", "error")), str(error.get("message", ""))
        if "detail" in body:
            return "invalid_request", str(body["detail"])
    return f"http_{response.status_code}", response.reason_phrase or "request refused"
