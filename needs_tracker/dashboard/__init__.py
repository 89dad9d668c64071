"""Leadership dashboard."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the dashboard blueprint."""
