"""The classifier's Faust broker credentials, from the same settings as every Kafka client.

Faust builds its own aiokafka clients, so it cannot take
`lc_common.kafka.kafka_client_options` directly; this turns those options into
Faust's `broker_credentials`, so the classifier reaches the broker exactly as the
other services do (plaintext in development, TLS with SCRAM in production).
"""

from __future__ import annotations

import faust

from lc_common.kafka import kafka_client_options
from lc_common.settings import ServiceSettings


def broker_credentials(settings: ServiceSettings) -> faust.types.auth.CredentialsT | None:
    """Faust's credentials for the configured security protocol; None for plaintext."""
    options = kafka_client_options(settings)
    protocol = options["security_protocol"]
    if protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    if protocol in ("SASL_SSL", "SASL_PLAINTEXT"):
        return faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            ssl_context=options.get("ssl_context"),
            mechanism=options["sasl_mechanism"],
        )
    return None
