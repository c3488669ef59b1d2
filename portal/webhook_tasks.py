"""The webhook jobs (services/webhooks.py): one delivery after the commit, and the periodic
tick (retry pickup, 30-day purge, the daily `invoice.overdue` sweep). Each is safe to run
twice; wiring.py imports this module so the jobs are registered."""

from __future__ import annotations

from .jobs import job


@job("portal.deliver_webhook")
def deliver_webhook(delivery_id: int, manual: bool = False) -> None:
    from .services.webhooks import deliver
    deliver(delivery_id, manual)


@job("portal.deliver_webhook_event")
def deliver_webhook_event(event_id: int) -> None:
    """Queue one delivery job per endpoint of a new event (so one slow endpoint holds up no
    other on Celery; in-process they run one after another, right after this)."""
    from .services.webhooks import queue_event_deliveries
    queue_event_deliveries(event_id)


@job("portal.webhooks_tick")
def webhooks_tick() -> None:
    """Run by Celery beat, or by the embedded sweeper thread (sweeper.py), every
    DOCUMENT_SWEEP_INTERVAL seconds."""
    from .services.webhooks import tick
    tick()
