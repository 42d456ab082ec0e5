from __future__ import annotations

import pytest
from django.db import transaction

from tests.security.world import build_world


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One world per module (and xdist worker), inside a transaction that is rolled back at the
    end; each test's own transaction is a savepoint inside it, so whatever a test writes is
    gone before the next one."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
