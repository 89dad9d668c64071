"""Matching needs to experts and resources, and the docking workflow."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the matching feature's blueprints, commands and page panels."""
