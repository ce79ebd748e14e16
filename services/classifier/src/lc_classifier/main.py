"""`lc-classifier`: run the classifier's Faust worker until SIGTERM."""

from __future__ import annotations

import asyncio

import faust
import structlog

from lc_classifier.agents import OUTPUTS
from lc_classifier.bootstrap import build
from lc_classifier.config import ClassifierSettings
from lc_classifier.recovery_watch import watch_recovery
from lc_common.events import PROBE_SIGNALLING
from lc_common.kafka import ensure_topics
from lc_common.logging import configure_logging

log = structlog.get_logger(__name__)


def run() -> None:
    """Create the topics if needed, then run the worker (exit 1 if it crashes)."""
    settings = ClassifierSettings()
    configure_logging("classifier", settings.log_level)
    settings.classifier_data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(ensure_topics(settings, [PROBE_SIGNALLING, *OUTPUTS]))
    classifier = build(settings)
    log.info(
        "classifier_starting",
        app_id=classifier.app.conf.id,
        http_port=settings.http_port,
        topic_prefix=settings.topic_prefix,
    )
    loop = asyncio.new_event_loop()
    # Scheduled before the worker runs the loop: it watches the first recovery too.
    watchdog = loop.create_task(watch_recovery(classifier.app, classifier.watch))
    worker = faust.Worker(
        classifier.app,
        loop=loop,
        loglevel=settings.log_level,
        quiet=True,
        override_logging=False,
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()
    watchdog.cancel()


if __name__ == "__main__":
    run()
