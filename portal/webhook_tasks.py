"""The webhook jobs (services/webhooks.py): one delivery after the commit, and the periodic
tick (retry pickup, 30-day purge, the daily `invoice.overdue` sweep). Each is safe to run
twice; wiring.py imports this module so the jobs are registered."""

from __future__ import annotations

from .jobs import job, periodic


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
    """A periodic job of the outbox (jobs.periodic): the relay enqueues one every
    WEBHOOK_TICK_INTERVAL seconds, whoever relays (beat, or the embedded relay thread)."""
    from .services.webhooks import tick
    tick()


periodic("portal.webhooks_tick", every="WEBHOOK_TICK_INTERVAL", default=60)
