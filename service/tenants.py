"""Tenant administration for operators: create a tenant and its first API key.

The ``feedback-miner tenants create`` command wraps :func:`create_tenant_with_key`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from service.errors import Conflict
from service.storage.keys import create_tenant, parse_scopes
from service.storage.session import (
    create_db_engine,
    create_session_factory,
    run_migrations,
    session_scope,
)

__all__ = ["NewTenant", "create_tenant_with_key", "split_scopes"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewTenant:
    """A created tenant and its API key, which is shown this once."""

    tenant_id: uuid.UUID
    name: str
    scopes: list[str]
    api_key: str


def split_scopes(values: Iterable[str]) -> list[str]:
    """Read scopes given as ``ingest,read`` or as repeated options, or both.

    Raises:
        ValueError: If a name is not a known scope, or none is given.
    """
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return [s.value for s in parse_scopes(names)]


def create_tenant_with_key(
    database_url: str,
    name: str,
    *,
    scopes: Iterable[str] = ("ingest", "read"),
    store_raw_text: bool = False,
) -> NewTenant:
    """Migrate the database, then create a tenant and its first API key.

    Args:
        database_url: The service's database.
        name: The tenant's unique name.
        scopes: What the key may do: ``ingest``, ``read``, ``admin``.
        store_raw_text: Keep unredacted text beside the redacted one.

    Returns:
        The tenant and its plain API key.

    Raises:
        ValueError: If a scope is unknown or the name is empty.
        Conflict: If a tenant of this name exists already.
    """
    if not name.strip():
        raise ValueError("expected a tenant name, got an empty one")
    checked = [s.value for s in parse_scopes(scopes)]
    run_migrations(database_url)
    engine = create_db_engine(database_url)
    try:
        with session_scope(create_session_factory(engine)) as session:
            tenant, issued = create_tenant(
                session, name, scopes=checked, store_raw_text=store_raw_text
            )
    except IntegrityError:
        # The unique name: this one is taken (perhaps a moment ago, elsewhere).
        raise _exists(name) from None
    finally:
        engine.dispose()
    return NewTenant(
        tenant_id=tenant.id, name=name, scopes=checked, api_key=issued.plain
    )


def _exists(name: str) -> Conflict:
    return Conflict(
        f"a tenant named {name!r} exists already; choose another name",
        field="name",
    )
