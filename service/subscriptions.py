"""Webhook subscriptions, as the API creates, lists and deletes them.

A subscription's secret is generated here and returned once, in the answer to
its creation; later reads never show it. Another tenant's subscription is not
found, exactly as one that does not exist.
"""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from service.api.schemas.webhooks import (
    WebhookCreate,
    WebhookCreatedPublic,
    WebhookEvent,
    WebhookPublic,
    WebhooksPublic,
)
from service.errors import InvalidInput, NotFound
from service.storage import webhooks as store
from service.storage.models import WebhookSubscription

__all__ = [
    "create_subscription",
    "delete_subscription",
    "list_subscriptions_public",
]

_SECRET_PREFIX = "whsec_"


def create_subscription(
    session: Session,
    tenant_id: uuid.UUID,
    body: WebhookCreate,
    *,
    require_https: bool,
    allow_private: bool = False,
) -> WebhookCreatedPublic:
    """Store a subscription with a new secret; this function commits.

    Args:
        session: An open session.
        tenant_id: The owner.
        body: URL, events and description.
        require_https: Refuse plain http URLs (production).
        allow_private: Accept loopback and private-range hosts.

    Returns:
        The subscription, with its secret (shown this once).

    Raises:
        InvalidInput: If the URL is not an absolute http(s) URL.
    """
    _check_url(body.url, require_https=require_https)
    _check_target(body.url, allow_private=allow_private)
    subscription = store.add_subscription(
        session,
        tenant_id,
        url=body.url,
        events=sorted({e.value for e in body.events}),
        secret=_SECRET_PREFIX + secrets.token_urlsafe(32),
        description=body.description,
    )
    session.commit()
    return WebhookCreatedPublic(
        **_public(subscription).model_dump(), secret=subscription.secret
    )


def list_subscriptions_public(session: Session, tenant_id: uuid.UUID) -> WebhooksPublic:
    """List a tenant's live subscriptions, oldest first, without their secrets."""
    return WebhooksPublic(
        items=[_public(s) for s in store.list_subscriptions(session, tenant_id)]
    )


def delete_subscription(
    session: Session, tenant_id: uuid.UUID, subscription_id: str
) -> None:
    """Stop deliveries to a subscription; this function commits.

    Raises:
        NotFound: If the tenant has no live subscription with this id.
    """
    try:
        parsed = uuid.UUID(subscription_id)
    except ValueError:
        raise _not_found(subscription_id) from None
    if not store.remove_subscription(session, tenant_id, parsed):
        raise _not_found(subscription_id)
    session.commit()


def _check_url(url: str, *, require_https: bool) -> None:
    allowed = ("https",) if require_https else ("http", "https")
    try:
        parts = urlsplit(url)
        has_host = bool(parts.hostname)
    except ValueError:
        parts, has_host = None, False
    if parts is None or parts.scheme not in allowed or not has_host:
        schemes = " or ".join(f"{s}://" for s in allowed)
        raise InvalidInput.single(
            "url",
            "invalid_value",
            f"expected an absolute URL starting with {schemes}, got {url!r}; "
            "give the full address the events should be posted to",
        )


def _check_target(url: str, *, allow_private: bool) -> None:
    # Server-side request forgery: a tenant must not make this service post to
    # the cloud metadata endpoint or to hosts inside its network. Literal
    # addresses and "localhost" are checked here.
    # TODO(#3): resolve host names at delivery time and check those addresses too,
    # which also covers DNS rebinding.
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = ipaddress.ip_address("127.0.0.1") if host == "localhost" else None
    if address is None:
        return
    never = address.is_link_local or address.is_multicast or address.is_unspecified
    internal = address.is_loopback or address.is_private or address.is_reserved
    if never or (internal and not allow_private):
        raise InvalidInput.single(
            "url",
            "forbidden_target",
            f"expected a public address, got {host!r}, which is "
            f"{'link-local or reserved' if never else 'loopback or private'}; "
            "webhooks are posted from the service's own network",
        )


def _public(subscription: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic(
        id=subscription.id,
        url=subscription.url,
        events=[WebhookEvent(e) for e in subscription.events],
        description=subscription.description,
        created_at=subscription.created_at,
    )


def _not_found(subscription_id: str) -> NotFound:
    return NotFound(
        f"no webhook subscription {subscription_id!r}; list yours with "
        "GET /v1/webhooks",
        field="webhook_id",
    )
