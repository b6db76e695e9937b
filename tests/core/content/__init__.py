"""Tests for core/content."""
