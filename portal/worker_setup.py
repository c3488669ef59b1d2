"""Celery wiring: every registered job becomes a task that runs inside an app context."""

from __future__ import annotations

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
    )
    for name, func in registry.items():
        celery.task(name=name, bind=False)(func)
    celery.set_default()
    return celery
