"""Who is calling: API key → tenant and scopes, and the scope check.

A missing, malformed, unknown or revoked key is refused alike
(:class:`~service.errors.Unauthorized`), so a caller cannot probe which keys
exist; a valid key without the scope an operation needs is refused with
:class:`~service.errors.Forbidden`. The ``admin`` scope includes the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.errors import Forbidden, Unauthorized
from service.storage.keys import authenticate, get_tenant
from service.storage.models import Scope

__all__ = ["Caller", "authenticate_caller", "check_scope"]


@dataclass(frozen=True)
class Caller:
    """The tenant behind a request's API key, and what the key may do."""

    tenant_id: uuid.UUID
    scopes: frozenset[Scope]
    store_raw_text: bool
    key_id: uuid.UUID | None = None


def authenticate_caller(session: Session, api_key: str | None) -> Caller:
    """Return the caller that ``api_key`` belongs to.

    Args:
        session: An open session.
        api_key: The plain key from the ``Authorization`` header, or None.

    Returns:
        The caller.

    Raises:
        Unauthorized: If no key was sent, or the key is not a live one.
    """
    if not api_key:
        raise Unauthorized(
            "expected an API key as 'Authorization: Bearer <key>', got none; "
            "create one with 'feedback-miner tenants create NAME'",
            field="Authorization",
        )
    stored = authenticate(session, api_key)
    tenant = get_tenant(session, stored.tenant_id) if stored else None
    if stored is None or tenant is None:
        raise Unauthorized(
            "the API key is unknown, revoked or malformed; check that the whole "
            "key was sent after 'Bearer '",
            field="Authorization",
        )
    return Caller(
        tenant_id=tenant.id,
        scopes=frozenset(Scope(s) for s in stored.scopes),
        store_raw_text=tenant.store_raw_text,
        key_id=stored.id,
    )


def check_scope(caller: Caller, scope: Scope) -> None:
    """Refuse a caller whose key lacks ``scope`` (``admin`` has every scope).

    Raises:
        Forbidden: If the key has neither ``scope`` nor ``admin``.
    """
    if scope in caller.scopes or Scope.ADMIN in caller.scopes:
        return
    held = ", ".join(sorted(caller.scopes))
    raise Forbidden(
        f"this API key lacks the {scope.value!r} scope that the operation needs "
        f"(it has: {held}); use a key issued with that scope",
        field="Authorization",
    )
