"""Fakes of outside services for tests, speaking their real wire formats (Telegram Bot API)."""
