"""Tests of the commune and province reports."""
