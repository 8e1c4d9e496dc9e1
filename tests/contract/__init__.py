"""Contract checks of our requests against published API definitions (test-only, never shipped)."""
