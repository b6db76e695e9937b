"""Tests for core."""
