"""WSGI entry point for gunicorn and `flask --app wsgi`."""

from needs_tracker import create_app

app = create_app()
