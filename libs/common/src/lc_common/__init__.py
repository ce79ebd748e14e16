"""Shared building blocks of the Lead Cleanser services.

A library, never an application: settings, logging, event contracts, the Kafka
consumer runner, the MongoDB client and the HTTP health/metrics surface.
"""
