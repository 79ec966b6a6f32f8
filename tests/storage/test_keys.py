"""Tenants and hashed, scoped API keys."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage.keys import (
    authenticate,
    create_tenant,
    hash_api_key,
    issue_api_key,
    parse_scopes,
    revoke_api_key,
)
from service.storage.models import ApiKey, Scope, Tenant


def test_create_tenant_issues_a_key_that_authenticates(session: Session) -> None:
    tenant, issued = create_tenant(session, "acme-vendor", scopes=["ingest"])
    session.commit()

    found = authenticate(session, issued.plain)

    assert found is not None
    assert found.tenant_id == tenant.id
    assert found.scopes == ["ingest"]


def test_api_key_is_stored_only_as_its_hash(session: Session, tenant: Tenant) -> None:
    issued = issue_api_key(session, tenant.id, scopes=["read"])
    session.commit()

    stored = session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant.id))
    for api_key in stored:
        assert issued.plain not in (api_key.key_hash, api_key.prefix)
    assert issued.api_key.key_hash == hash_api_key(issued.plain)
    assert len(issued.api_key.key_hash) == 64


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: "not-a-key",
        lambda key: key.replace("fm_", "xx_", 1),
        lambda key: "",
    ],
    ids=["wrong-secret", "malformed", "wrong-scheme", "empty"],
)
def test_authenticate_rejects_a_wrong_key(
    session: Session, tenant: Tenant, mangle: object
) -> None:
    issued = issue_api_key(session, tenant.id, scopes=["read"])
    session.commit()
    assert callable(mangle)
    assert authenticate(session, mangle(issued.plain)) is None


def test_authenticate_rejects_a_revoked_key(session: Session, tenant: Tenant) -> None:
    issued = issue_api_key(session, tenant.id, scopes=["admin"])
    assert revoke_api_key(session, tenant.id, issued.api_key.id)
    session.commit()
    assert authenticate(session, issued.plain) is None


def test_revoke_api_key_ignores_another_tenants_key(
    session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    issued = issue_api_key(session, tenant.id, scopes=["read"])
    assert not revoke_api_key(session, other_tenant.id, issued.api_key.id)
    session.commit()
    assert authenticate(session, issued.plain) is not None


def test_parse_scopes_sorts_and_deduplicates() -> None:
    assert parse_scopes(["read", "ingest", "read"]) == [Scope.INGEST, Scope.READ]


def test_parse_scopes_names_the_bad_scope() -> None:
    with pytest.raises(ValueError) as info:
        parse_scopes(["read", "write"])
    assert str(info.value) == (
        "expected scopes among ['admin', 'ingest', 'read'], got 'write'; "
        "pass e.g. --scopes ingest --scopes read"
    )
