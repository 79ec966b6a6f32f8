"""``/v1/webhooks``: subscribe URLs to events, list and delete subscriptions."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service import subscriptions
from service.api.deps import AdminCallerDep, SessionDep, SettingsDep
from service.api.schemas.webhooks import (
    WebhookCreate,
    WebhookCreatedPublic,
    WebhooksPublic,
)

__all__ = [
    "create_webhook",
    "delete_webhook",
    "list_webhooks",
    "router",
]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate,
    caller: AdminCallerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookCreatedPublic:
    """Subscribe a URL to events; the signing secret is shown only in this answer."""
    return subscriptions.create_subscription(
        session,
        caller.tenant_id,
        body,
        require_https=settings.environment == "production",
        allow_private=settings.webhook_private_targets,
    )


@router.get("")
def list_webhooks(caller: AdminCallerDep, session: SessionDep) -> WebhooksPublic:
    """List the subscriptions, oldest first, without their secrets."""
    return subscriptions.list_subscriptions_public(session, caller.tenant_id)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(
    webhook_id: str, caller: AdminCallerDep, session: SessionDep
) -> Response:
    """Delete a subscription: no further deliveries; its delivery log stays."""
    subscriptions.delete_subscription(session, caller.tenant_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
