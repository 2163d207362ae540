"""SnapStart priming for functions that generate. Under SnapStart, init runs once when a version is
published and is snapshotted; importing the provider SDKs and building their clients there moves
their ~1-2 s off every cold start. Elsewhere (no SnapStart, local, tests) nothing happens here and
each SDK is imported on the first request that needs it."""

from __future__ import annotations


def prime_provider_sdks() -> None:
    """Import both SDKs and build a throwaway client of each (which loads their lazily imported
    HTTP and resource modules). No key is used and no request is sent."""
    import anthropic
    import openai

    _ = openai.OpenAI(api_key="priming-only", base_url="http://127.0.0.1:9/v1").chat.completions
    _ = anthropic.Anthropic(api_key="priming-only", base_url="http://127.0.0.1:9").messages


def register_snapstart_priming() -> bool:
    """Register the priming as a before-snapshot hook when running in a Lambda Python runtime
    (which ships `snapshot_restore_py`). Returns whether it was registered."""
    try:
        from snapshot_restore_py import register_before_snapshot  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_before_snapshot(prime_provider_sdks)
    return True
