"""Parley: a serverless AI conversation and RAG API. This package is the shared Lambda layer."""
