"""Repository functions: the only code that reads and writes tables. `session` is keyword-only."""
