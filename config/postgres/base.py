"""Django's PostgreSQL backend with a health check that costs no round trip.

CONN_HEALTH_CHECKS' `SELECT 1` before each request's first query was ~30% of the WSGI time of
the hottest write. An idle connection in autocommit has nothing to read unless the server
spoke first: a terminated backend or a stopped/restarted server sends its FATAL error and
closes the socket, which makes it readable. So a readable (or closed) idle socket is treated as
unusable and the connection is reopened, as the `SELECT 1` did. After a query error Django asks
again, and then the real round trip is kept: the error says nothing about the socket.
"""

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper


class DatabaseWrapper(PostgresWrapper):
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
