"""Notifier's adapters: the notification log, gateway and ingest clients, SMTP."""
