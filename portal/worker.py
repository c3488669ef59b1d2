"""Celery entry point: `celery -A portal.worker worker --loglevel=info`."""

from . import create_app

app = create_app()
celery = app.extensions["celery"]
