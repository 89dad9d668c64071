"""Audit trail of every change to centre data."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the audit trail's session events and pages."""
