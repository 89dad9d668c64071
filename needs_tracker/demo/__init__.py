"""Demo data: the Weifang service centre and its Q1 2021 visit."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `demo` commands."""
    from needs_tracker.demo.cli import demo_cli

    app.cli.add_command(demo_cli)
