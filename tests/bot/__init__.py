"""Tests for bot."""
