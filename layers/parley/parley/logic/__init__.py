"""Use cases: one module per capability. Functions call exactly one of these per request."""
