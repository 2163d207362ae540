"""`make eval`: retrieval quality on a judged test collection (figures, never pass/fail)."""
