"""The gateway's rules, free of I/O: accounts and users, who may do what, credentials,
single-use links, session expiry, lockout windows, idempotency keys and a dry run's cost.

Each module holds plain types and pure functions tested with plain values
(`tests/unit/gateway/test_gateway_domain_*.py`). The use cases beside the
package (`accounts.py`, `users.py`, `sessions.py`, `idempotency.py`) call these
rules and the stores, through the Protocols of `ports.py`. A rule that refuses
with an HTTP answer raises one of `lc_gateway.errors` (a leaf module); a rule
that only explains a refusal returns its text.
"""
