"""The volunteer desk: handoff tickets, the Telegram forum desk, the web desk and their timers."""
