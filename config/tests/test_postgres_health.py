"""The per-request database health check reads no reply, yet still replaces a dead connection."""

import time

import psycopg
import pytest
from django.db import connection

from config.tests import servers


def terminate_backend_of_django_connection() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(servers.current_database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the FATAL message reaches our socket


@pytest.mark.django_db(transaction=True)
def test_a_request_after_its_backend_was_terminated_gets_a_fresh_connection():
    connection.ensure_connection()
    terminate_backend_of_django_connection()

    connection.health_check_done = False  # what each request's start does
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_healthy_idle_connection_is_kept():
    connection.ensure_connection()
    before = connection.connection

    connection.health_check_done = False
    connection.ensure_connection()

    assert connection.connection is before
