"""Validated bot content: service guides (data/services) and lessons (data/lessons)."""
