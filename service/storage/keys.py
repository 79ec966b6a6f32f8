"""Tenants and their API keys.

A key reads ``fm_<prefix>_<secret>``. The prefix is stored in clear and indexed, so
a request costs one lookup; the key itself is kept only as its SHA-256 digest and
compared in constant time. A plain SHA-256 suffices (no password hash) because
the secret is 256 random bits, not something a person chose. The plain key is
returned once, when it is created, and cannot be recovered afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage.models import ApiKey, Scope, Tenant, utcnow

__all__ = [
    "IssuedKey",
    "authenticate",
    "create_tenant",
    "get_tenant",
    "hash_api_key",
    "issue_api_key",
    "parse_scopes",
    "revoke_api_key",
]

logger = logging.getLogger(__name__)

_KEY_PREFIX = "fm"


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: the stored row and the plain key, shown once."""

    api_key: ApiKey
    plain: str


def hash_api_key(plain: str) -> str:
    """Return the hex SHA-256 digest under which ``plain`` is stored."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def parse_scopes(scopes: Iterable[str]) -> list[Scope]:
    """Validate scope names and return them as :class:`Scope`, sorted, unique.

    Raises:
        ValueError: If a name is not one of ``ingest``, ``read``, ``admin``.
    """
    known = {s.value for s in Scope}
    parsed: set[Scope] = set()
    for name in scopes:
        if name not in known:
            raise ValueError(
                f"expected scopes among {sorted(known)}, got {name!r}; "
                "pass e.g. --scopes ingest --scopes read"
            )
        parsed.add(Scope(name))
    if not parsed:
        raise ValueError("expected at least one scope, got none")
    return sorted(parsed)


def create_tenant(
    session: Session,
    name: str,
    *,
    scopes: Iterable[str] = ("ingest", "read"),
    store_raw_text: bool = False,
) -> tuple[Tenant, IssuedKey]:
    """Create a tenant and its first API key.

    Args:
        session: An open session; the caller commits.
        name: The tenant's unique name.
        scopes: What the first key may do.
        store_raw_text: Keep unredacted text beside the redacted one.

    Returns:
        The tenant and its issued key.
    """
    tenant = Tenant(id=uuid.uuid4(), name=name, store_raw_text=store_raw_text)
    session.add(tenant)
    session.flush()
    issued = issue_api_key(session, tenant.id, scopes=scopes)
    logger.info("created tenant %s", tenant.id)
    return tenant, issued


def get_tenant(session: Session, tenant_id: uuid.UUID) -> Tenant | None:
    """Return the tenant with id ``tenant_id``, or None."""
    return session.get(Tenant, tenant_id)


def issue_api_key(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    scopes: Iterable[str],
    name: str = "default",
) -> IssuedKey:
    """Issue a new API key for a tenant.

    Args:
        session: An open session; the caller commits.
        tenant_id: The tenant that owns the key.
        scopes: What the key may do (``ingest``, ``read``, ``admin``).
        name: A label for people, e.g. the integration that uses the key.

    Returns:
        The stored key and its plain form, which is not kept anywhere.
    """
    prefix = secrets.token_hex(6)
    plain = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(plain),
        scopes=[s.value for s in parse_scopes(scopes)],
    )
    session.add(api_key)
    session.flush()
    return IssuedKey(api_key=api_key, plain=plain)


def authenticate(session: Session, plain: str) -> ApiKey | None:
    """Return the live key that ``plain`` is, or None.

    A malformed, unknown or revoked key gives None alike, so that a caller
    cannot tell which one it sent.
    """
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != _KEY_PREFIX:
        return None
    api_key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not hmac.compare_digest(api_key.key_hash, hash_api_key(plain)):
        return None
    return api_key


def revoke_api_key(session: Session, tenant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Revoke one of a tenant's keys; return whether it was found."""
    api_key = session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    )
    if api_key is None:
        return False
    api_key.revoked_at = api_key.revoked_at or utcnow()
    return True
