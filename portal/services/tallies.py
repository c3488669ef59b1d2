"""Kept invoice counts (issue 16): reading and compacting `invoice_tallies`.

The triggers of migration 0014 append a delta row (+1/-1) per key (event, organizer, status,
type) for every invoice insert, delete and change of status or type; see models/tally.py.
A count is `sum(n)` over the rows of its events for the statuses and types asked, read
through the (event_id, status, type) index: its cost follows the number of rows per key,
which compaction brings back to one. `compact_tallies` runs periodically through the job
outbox (tasks.py, `TALLY_COMPACT_INTERVAL`) and as `flask compact-tallies`.

Compaction folds every key that has more than one row (or a single row of 0) into one row,
in one transaction. On PostgreSQL it is one statement that inserts the sum of exactly the
rows it deleted (`DELETE … RETURNING`), so two compactions at once, or the triggers writing
meanwhile, never count a delta twice or lose one: a row the other compaction deleted first is
skipped by ours, a delta written after our snapshot stays for the next run. SQLite has one
writer at a time, so there it reads the sums and replaces the rows in its write transaction.

Measured 2026-11-29 on PostgreSQL 15 (bench data sets, event e0 holding a tenth of the
invoices, after VACUUM ANALYZE, medians of 300): count(*) of the event 0.15-0.25 ms at 10k,
0.5-0.6 ms at 100k, 6.7-8.6 ms at 1M (13-22 ms at 100k before the first vacuum, when it
cannot be index-only); the tally sum 0.08 ms at every size (4 rows after compaction).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, delete, func, insert, select, text

from ..extensions import db
from ..models import InvoiceTally, token_events

_COMPACT_POSTGRESQL = text("""
WITH keys AS (
    SELECT event_id, status, type FROM invoice_tallies
    GROUP BY event_id, status, type HAVING count(*) > 1 OR sum(n) = 0
), gone AS (
    DELETE FROM invoice_tallies t USING keys k
    WHERE t.event_id = k.event_id AND t.status = k.status AND t.type = k.type
    RETURNING t.event_id, t.organizer_id, t.status, t.type, t.n
), kept AS (
    INSERT INTO invoice_tallies (event_id, organizer_id, status, type, n)
    SELECT event_id, organizer_id, status, type, sum(n) FROM gone
    GROUP BY event_id, organizer_id, status, type HAVING sum(n) <> 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM kept)
""")

_T = InvoiceTally
_KEY = (_T.event_id, _T.organizer_id, _T.status, _T.type)


def tally_count(*, event_id: int | None = None, organizer_id: int | None = None,
                token_id: int | None = None, statuses: Iterable[str] = (),
                types: Iterable[str] = ()) -> Select:
    """The SELECT of how many invoices there are in one event (`event_id`), in the events of
    an organizer (`organizer_id`), or in those an event-limited token may see (`token_id`),
    with one of `statuses` and one of `types` (empty: any)."""
    conditions = []
    if event_id is not None:
        conditions.append(InvoiceTally.event_id == event_id)
    elif token_id is not None:
        conditions.append(InvoiceTally.event_id.in_(
            select(token_events.c.event_id).where(token_events.c.token_id == token_id)))
    if organizer_id is not None:
        conditions.append(InvoiceTally.organizer_id == organizer_id)
    if not conditions:
        raise ValueError("a tally count needs an event, an organizer or a token")
    statuses, types = tuple(statuses), tuple(types)
    if statuses:
        conditions.append(InvoiceTally.status.in_(statuses))
    if types:
        conditions.append(InvoiceTally.type.in_(types))
    return select(func.coalesce(func.sum(InvoiceTally.n), 0)).where(*conditions)


def status_tallies(event_id: int) -> dict[str, int]:
    """How many invoices of the event are in each status (statuses with none left out)."""
    rows = db.session.execute(
        select(InvoiceTally.status, func.sum(InvoiceTally.n))
        .where(InvoiceTally.event_id == event_id).group_by(InvoiceTally.status)).all()
    return {status: int(number) for status, number in rows if number}


def compact_tallies() -> tuple[int, int]:
    """Fold the deltas into one row per key; returns (rows removed, rows written). Flushes,
    never commits (the caller's unit of work does)."""
    if db.session.get_bind().dialect.name == "postgresql":
        removed, written = db.session.execute(_COMPACT_POSTGRESQL).one()
        return int(removed), int(written)
    groups = db.session.execute(
        select(*_KEY, func.sum(_T.n), func.count()).group_by(*_KEY)
        .having((func.count() > 1) | (func.sum(_T.n) == 0))).all()
    removed = written = 0
    for event_id, organizer_id, status, type_, n, rows in groups:
        removed += rows
        db.session.execute(delete(_T).where(
            _T.event_id == event_id, _T.organizer_id == organizer_id, _T.status == status,
            _T.type == type_))
        if n:
            written += 1
            db.session.execute(insert(_T).values(
                event_id=event_id, organizer_id=organizer_id, status=status, type=type_, n=n))
    return removed, written


def check_tallies() -> list[tuple]:
    """The keys whose kept count differs from the invoices' (event, status, type, kept,
    real); empty when all agree. For tests and operators."""
    real = {(e, s, t): n for e, s, t, n in db.session.execute(text(
        "SELECT event_id, status, type, count(*) FROM invoices GROUP BY event_id, status, type"))}
    kept = {(e, s, t): int(n) for e, s, t, n in db.session.execute(text(
        "SELECT event_id, status, type, sum(n) FROM invoice_tallies "
        "GROUP BY event_id, status, type"))}
    return sorted((*key, kept.get(key, 0), real.get(key, 0))
                  for key in set(real) | set(kept) if kept.get(key, 0) != real.get(key, 0))
