"""Public names on their way out: each still works, and warns when used.

``json_codec`` (added with :mod:`ams_billing.core.idempotency` in issue 18, deprecated before
any provider used it): it keeps a whole result in the ledger and replays it as first returned.
That is what the contract forbids for the results a provider keeps keys for: a replayed contact
key answers the contact *as held now* (a later update under another key stays), and an
invoice is read with its contact as it is now. Keep an id with
:class:`~ams_billing.core.idempotency.OutcomeCodec` and read the result again on replay, as
``docs/idempotency.md`` shows.
"""

from __future__ import annotations

import json
import warnings
from typing import TypeVar

from ams_billing.core.convert import structure, unstructure
from ams_billing.core.idempotency import Outcome, OutcomeCodec
from ams_billing.core.ledger import IdempotencyRecord

__all__ = ["json_codec"]

T = TypeVar("T")


def json_codec(result_type: type[T]) -> OutcomeCodec[T]:
    """Deprecated: keep the whole result (an attrs class of the core's models) as JSON.

    A replay gives back the result as it was first returned, without calling the system: a
    contact or invoice changed since comes back stale, against the contract. Use
    ``OutcomeCodec(keep=lambda r: Outcome(r.provider_id), replay=<read it again>)``.
    """
    warnings.warn(
        "ams_billing.json_codec is deprecated and will be removed in a later release: it "
        "replays a result as first returned, while a replayed key must answer the record as "
        "held now; keep an id with OutcomeCodec(keep=lambda r: Outcome(r.provider_id), "
        "replay=...) and read the record again on replay (docs/idempotency.md)",
        DeprecationWarning,
        stacklevel=2,
    )

    def keep(value: T) -> Outcome:
        return Outcome(json.dumps(unstructure(value), sort_keys=True, separators=(",", ":")))

    def replay(record: IdempotencyRecord) -> T:
        return structure(json.loads(record.result or "null"), result_type)

    return OutcomeCodec(keep, replay)
