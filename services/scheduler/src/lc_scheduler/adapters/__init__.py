"""Adapters of the scheduler: MongoDB, Kafka, the ingest HTTP client."""
