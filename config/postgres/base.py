"""Django's PostgreSQL backend with a health check that costs no round trip, and timestamps
parsed in C.

CONN_HEALTH_CHECKS' `SELECT 1` before each request's first query was ~30% of the WSGI time of
the hottest write. An idle connection in autocommit has nothing to read unless the server
spoke first: a terminated backend or a stopped/restarted server sends its FATAL error and
closes the socket, which makes it readable. So a readable (or closed) idle socket is treated as
unusable and the connection is reopened, as the `SELECT 1` did. After a query error Django asks
again, and then the real round trip is kept: the error says nothing about the socket.

Django loads every timestamptz through a subclass of psycopg's pure-Python loader (to pin the
result's time zone), a regex per value: ~4 us against ~0.3 us for psycopg's C loader, and the
hot reads return dozens of timestamps. Django sets the session time zone to its own at connect,
so under UTC the C loader already returns exactly what Django's would.
"""

import datetime
import functools
import select
from typing import Any, cast

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from psycopg import abc, adapt, adapters
from psycopg.pq import Format

TIMESTAMPTZ = adapters.types["timestamptz"].oid
# psycopg's default text loader: its C one when psycopg-binary is installed.
_FAST_LOADER = cast(type[adapt.Loader], adapters.get_loader(TIMESTAMPTZ, Format.TEXT))


class UtcTimestamptzLoader(adapt.Loader):
    """psycopg's own (C) timestamptz loader, for sessions in UTC. `timezone` is what Django's
    create_cursor compares to decide whether a cursor needs its own loader."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context: abc.AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        # psycopg calls `load` per value: an instance attribute makes that the C method itself.
        self.load = _FAST_LOADER(oid, context).load  # type: ignore[method-assign]

    def load(self, data: abc.Buffer) -> Any:  # replaced per instance (above)
        raise NotImplementedError


@functools.cache
def _utc_context(template: adapt.AdaptersMap) -> adapt.AdaptersMap:
    context = adapt.AdaptersMap(template)
    context.register_loader("timestamptz", UtcTimestamptzLoader)
    return context


class DatabaseWrapper(PostgresWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if self.timezone == datetime.UTC and "context" in params:
            params["context"] = _utc_context(params["context"])
        return params

    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        if self.errors_occurred:
            return super().is_usable()
        try:
            readable, _, _ = select.select([self.connection.pgconn.socket], [], [], 0)
        except (OSError, ValueError):  # no socket any more
            return False
        return not readable
