"""End-to-end tests: real Rasa, action server and gateway processes."""
