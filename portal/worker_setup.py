"""Celery wiring: the broker is a doorbell, the outbox (jobs.py) is the truth.

Start workers with `celery -A portal.worker worker --loglevel=info` and the same environment
as the app (`DATABASE_URL`, `CELERY_BROKER_URL`, `MAIL_SERVER`, …), and Celery beat exactly
once per deployment, either inside one worker (`celery -A portal.worker worker -B …`) or on
its own (`celery -A portal.worker beat`): it queues the relay (`portal.relay_jobs`,
sweeper.py) every `JOBS_RELAY_INTERVAL` seconds. Two beats only relay twice as often.

A message carries only a job row's id (`portal.run_job`); the worker claims the row, runs it
and marks it done (jobs.run_job). Messages are acknowledged when taken: a message lost with a
killed worker costs nothing, because its row stays `running` until `JOBS_VISIBILITY_TIMEOUT`
has passed and the relay hands it out again. So the Redis transport's own visibility timeout
(`CELERY_VISIBILITY_TIMEOUT`) plays no part in recovery.

Several deployments on one Redis: give each its own database number in `CELERY_BROKER_URL`
(`redis://host:6379/3`), or its own `CELERY_KEY_PREFIX` (every broker key is prefixed with it)
and `CELERY_QUEUE`.
"""

from __future__ import annotations

import os

from celery import Celery, Task


def make_celery(app, registry) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    transport = {"visibility_timeout": int(
        app.config.get("CELERY_VISIBILITY_TIMEOUT")
        or os.environ.get("CELERY_VISIBILITY_TIMEOUT") or 3600)}
    if app.config.get("CELERY_KEY_PREFIX"):
        transport["global_keyprefix"] = app.config["CELERY_KEY_PREFIX"]
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=app.config.get("CELERY_RESULT_BACKEND"),
        task_ignore_result=True,
        # The outbox re-drives a job whose worker died; the broker need not keep it.
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives a broker outage
        broker_transport_options=transport,
        # Publishing must not hang a request when the broker is away: the row waits.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0,
                                   "interval_step": 0.2, "interval_max": 0.2},
    )
    queue = app.config.get("CELERY_QUEUE") or "celery"
    celery.conf.task_default_queue = queue
    interval = float(app.config.get("JOBS_RELAY_INTERVAL") or 0)
    if interval > 0:
        celery.conf.beat_schedule = {"relay-jobs": {
            "task": "portal.relay_jobs", "schedule": interval,
            # A relay still queued when the next is due is dropped: the next one does its work.
            "options": {"queue": queue, "expires": max(interval, 10.0)},
        }}

    @celery.task(name="portal.run_job", shared=False)
    def run_job(job_id: int) -> None:
        from .jobs import run_job as run
        run(job_id)

    @celery.task(name="portal.relay_jobs", shared=False)
    def relay_jobs() -> None:
        from .jobs import relay_jobs as relay
        relay()

    # Messages queued by a release before the outbox (job name and arguments): run them.
    for name in registry:
        celery.task(name=name, bind=False, shared=False)(_legacy(name))
    celery.set_default()
    return celery


def _legacy(name: str):
    def run(*args):
        from .jobs import run_now
        return run_now(name, *args)

    run.__name__ = name.rsplit(".", 1)[-1]
    return run
