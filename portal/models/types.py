"""Column types that keep money exact and time zone-aware on every database.

SQLite has no decimal type: SQLAlchemy's Numeric would store a float there. `Money` stores the
exact decimal text on SQLite and NUMERIC(p, s) elsewhere, so no float ever touches an amount.
`UTCDateTime` stores naive UTC and always hands back aware UTC datetimes, because SQLite drops
the offset and comparing naive with aware values raises.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.types import TypeDecorator


class Money(TypeDecorator):
    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 16, scale: int = 3):
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "sqlite":
            return format(value.quantize(Decimal(1).scaleb(-self.scale)), "f")
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value

    def __repr__(self) -> str:
        return f"Money({self.precision}, {self.scale})"


class UTCDateTime(TypeDecorator):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
