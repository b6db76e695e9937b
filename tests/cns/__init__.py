"""Tests for cns."""
