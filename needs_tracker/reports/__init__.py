"""Monthly reports: pandas summaries, narrative, Word and Excel export."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the reports feature's blueprints and commands."""
