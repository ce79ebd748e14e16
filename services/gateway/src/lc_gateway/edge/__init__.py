"""The HTTP edge: what a request meets around the routes.

The session cookie (`session_cookie.py`), authentication by API key or session
(`auth.py`) and the API's gate before the body (`gate.py`), CSRF tokens
(`csrf.py`), throttling of failed authentication (`throttle.py`), uploads
streamed with a size cap (`uploads.py`, `upload_form.py`), relayed downloads
(`streams.py`) and per-request logs and metrics (`observability.py`).
"""
