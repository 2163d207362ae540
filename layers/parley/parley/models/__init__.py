"""Pydantic models: `domain` (what is stored) and `api` (request/response bodies per API)."""
