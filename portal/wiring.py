"""Background work, wired when the app is made: the queue, its jobs, mail, Celery, the relay.

Above everything it connects, so that nothing below imports back up: the queue (jobs.py)
knows no job, the jobs (tasks.py) register themselves on the queue, the Celery setup and the
relay use the queue. Only the app factory imports this module.
"""

from __future__ import annotations

from flask import Flask

from . import (
    tasks,  # noqa: F401 - registers the job functions
    webhook_tasks,  # noqa: F401 - registers the webhook jobs
)
from .jobs import init_jobs, registered_jobs
from .services.mail_transports import init_mail
from .sweeper import init_relay


def init_background(app: Flask) -> None:
    init_jobs(app)
    init_mail(app)

    if app.config.get("CELERY_BROKER_URL"):
        from .worker_setup import make_celery  # Celery is imported only when it is used
        app.extensions["celery"] = make_celery(app, registered_jobs())

    init_relay(app)
