"""Celery wiring: every registered job becomes a task that runs inside an app context.

Start workers with `celery -A portal.worker worker --loglevel=info` and the same environment
as the app (`DATABASE_URL`, `CELERY_BROKER_URL`, `MAIL_SERVER`, …), and Celery beat exactly
once per deployment, either inside one worker (`celery -A portal.worker worker -B …`) or on
its own (`celery -A portal.worker beat`): it queues the document sweep
(`portal.sweep_documents`, sweeper.py) every `DOCUMENT_SWEEP_INTERVAL` seconds. Two beats
would only sweep twice as often, which is harmless.

Jobs are acknowledged after they ran, so a job whose worker dies is delivered again: to
another worker at once when only the pool process died, or — when the whole worker was killed
— once the Redis transport's visibility timeout has passed (`CELERY_VISIBILITY_TIMEOUT`,
seconds, default one hour; keep it well above the longest job: a PDF renders in under a
second and xhtml2pdf stops at 300 seconds, a mail gives up after MAIL_TIMEOUT, a sweep does
at most DOCUMENT_SWEEP_BATCH renders). A job handed out again while the first run still works
would run twice, so the timeout must not be shorter than that. Every job is idempotent, so
running one twice is harmless (see services/mail.py for how a mail is never sent twice, and
services/documents/store.py `store_pdf` for how a document is never stored twice).
"""

from __future__ import annotations

import os

from celery import Celery, Task


def make_celery(app, registry) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                from .jobs import run_now
                return run_now(self.name, *args)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=app.config.get("CELERY_RESULT_BACKEND"),
        task_ignore_result=True,
        # Acknowledge after the job ran, so a killed worker's job is redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(
            app.config.get("CELERY_VISIBILITY_TIMEOUT")
            or os.environ.get("CELERY_VISIBILITY_TIMEOUT") or 3600)},
        # Publishing must not hang a request when the broker is away.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0,
                                   "interval_step": 0.5, "interval_max": 1},
    )
    queue = app.config.get("CELERY_QUEUE") or "celery"
    celery.conf.task_default_queue = queue
    interval = float(app.config.get("DOCUMENT_SWEEP_INTERVAL") or 0)
    if interval > 0:
        celery.conf.beat_schedule = {"sweep-documents": {
            "task": "portal.sweep_documents", "schedule": interval,
            # A sweep still queued when the next is due is dropped: the next one does its work.
            "options": {"queue": queue, "expires": max(interval, 10.0)},
        }, "webhooks-tick": {  # webhook retries, purge, overdue sweep (services/webhooks.py)
            "task": "portal.webhooks_tick", "schedule": interval,
            "options": {"queue": queue, "expires": max(interval, 10.0)},
        }}
    for name, func in registry.items():
        celery.task(name=name, bind=False)(func)
    celery.set_default()
    return celery
