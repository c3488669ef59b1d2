"""Celery entry point: `celery -A portal.worker worker --loglevel=info`, with `-B` on exactly
one worker (or one `celery -A portal.worker beat`) so the job relay (sweeper.py) is scheduled.

Run it with the app's environment (`DATABASE_URL`, `CELERY_BROKER_URL`, `MAIL_SERVER`, …).
The Flask app is not called `app` here: Celery's `-A` looks for `app` first and would take it.
"""

from . import create_app

flask_app = create_app()
if "celery" not in flask_app.extensions:
    raise RuntimeError("CELERY_BROKER_URL is not set: without a broker, jobs run in-process "
                       "and no worker is needed.")
celery = flask_app.extensions["celery"]
