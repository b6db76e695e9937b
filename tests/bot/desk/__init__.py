"""Tests of the volunteer desk."""
