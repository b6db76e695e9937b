"""Logging set-up: one format everywhere, personal numbers masked in every record."""

from __future__ import annotations

import logging

from core.privacy import mask_pii


class MaskingFilter(logging.Filter):
    """Rewrites each record's message with ID numbers, phones and OTPs masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send logs to stderr with the masking filter on the root handler (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(isinstance(f, MaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(MaskingFilter())
        root.addHandler(handler)
