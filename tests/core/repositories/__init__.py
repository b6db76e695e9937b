"""Tests for core/repositories."""
