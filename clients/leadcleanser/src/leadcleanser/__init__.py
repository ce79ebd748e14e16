"""The Lead Cleanser client command line, on the public API v1 only."""
