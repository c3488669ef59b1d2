"""Routes of this blueprint (built in its own issue)."""
