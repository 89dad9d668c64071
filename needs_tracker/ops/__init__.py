"""Operations: backup and restore, deployment checks, attachments."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the operations commands and pages."""
