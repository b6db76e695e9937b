"""Fakes of the outer edge (the Telegram Bot API and the Zalo OA API) on 127.0.0.1, speaking
the real wire formats, for tests and benchmarks."""
