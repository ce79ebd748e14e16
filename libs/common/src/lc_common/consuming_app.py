"""The FastAPI app of a service whose work is consuming events (billing, notifier).

Such a service is wired once by its `bootstrap` into a runtime that holds a store
client, a publisher and its consumer specs. The app's lifespan builds that runtime,
starts a runner per consumer (and whatever background work the service adds), and
on the way out stops the workers before closing the runtime; `/readyz` answers
when the store does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from lc_common.consumer import ConsumerSpec, start_consumers
from lc_common.kafka import Publisher
from lc_common.service import Workers, create_service_app
from lc_common.settings import ServiceSettings
from lc_common.store import ping


class ConsumingRuntime(Protocol):
    """What a consuming service's bootstrap returns."""

    @property
    def mongo(self) -> AsyncMongoClient[Any]: ...

    @property
    def publisher(self) -> Publisher: ...

    @property
    def consumers(self) -> Sequence[ConsumerSpec[Any]]: ...

    async def close(self) -> None: ...


R = TypeVar("R", bound=ConsumingRuntime)


def create_consuming_app(
    *,
    title: str,
    settings: ServiceSettings,
    open_runtime: Callable[[], Awaitable[R]],
    on_start: Callable[[R, Workers], None] | None = None,
) -> FastAPI:
    """An app whose lifespan opens the runtime and runs its consumers.

    The runtime is at `app.state.runtime` and the settings at `app.state.settings`;
    `on_start` may start more workers (a periodic job, say) once the consumers run.
    """
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await open_runtime()
        app.state.runtime = runtime
        start_consumers(workers, settings, runtime.consumers, runtime.publisher)
        if on_start is not None:
            on_start(runtime, workers)
        try:
            yield
        finally:
            await workers.stop()
            await runtime.close()

    async def store_answers() -> None:
        await ping(app.state.runtime.mongo)

    app = create_service_app(
        title=title, lifespan=lifespan, workers=workers, checks=[store_answers]
    )
    app.state.settings = settings
    return app
