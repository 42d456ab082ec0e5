"""Models arrive with the issue that builds this app (DESIGN.md §2)."""
