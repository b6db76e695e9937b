"""Tests for nlu: the Vietnamese normaliser, components and the held-out evaluation."""
