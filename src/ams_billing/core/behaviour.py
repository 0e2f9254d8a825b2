"""What a provider declares about how it behaves (stand-in until i19-core's module lands).

Only the webhook part is here; the full :class:`ProviderBehaviour` comes from branch i19-core.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

__all__ = ["ProviderBehaviour", "WebhookBehaviour"]


@attrs.frozen
class WebhookBehaviour:
    """What a provider's webhook deliveries are like."""

    intent_to_receive: bool = False
    signature_tolerance: timedelta | None = None
    snapshot_events: bool = False


@attrs.frozen
class ProviderBehaviour:
    """What a provider declares; a provider that declares nothing gets these defaults."""

    webhooks: WebhookBehaviour = attrs.field(factory=WebhookBehaviour)
