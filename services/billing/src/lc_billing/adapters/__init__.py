"""Billing's adapters: the ledger store and the payment provider."""
