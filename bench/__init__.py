"""`make bench`: figures, not tests. Each prints JSON lines {"name", "value", "unit", ...}."""
