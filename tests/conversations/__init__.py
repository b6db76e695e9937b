"""Conversation tests: Rasa test stories against the trained model."""
