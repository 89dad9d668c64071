"""Spreadsheet import and export, and company identity (dedupe and merge)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the import/export blueprints and commands."""
