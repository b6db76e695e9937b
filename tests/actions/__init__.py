"""Tests for actions."""
