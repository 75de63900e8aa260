"""Delivering segment enter/exit events to webhooks (docs/delivery.md).

from segwise.deliver import deliver
report = deliver(project, profile, Path("deliveries.yml"), dry_run=False)
"""

from segwise.deliver.changes import Change, change_id
from segwise.deliver.config import DeliveriesConfig, Endpoint, load_deliveries
from segwise.deliver.errors import DeliveryError, LeaseLost
from segwise.deliver.payload import SCHEMA, Batch
from segwise.deliver.run import DeliveryReport, EndpointReport, Tuning, deliver, replay_dead_letters
from segwise.deliver.sender import Backoff
from segwise.deliver.signing import Secret, signature, verify_signature

__all__ = [
    "SCHEMA",
    "Backoff",
    "Batch",
    "Change",
    "DeliveriesConfig",
    "DeliveryError",
    "DeliveryReport",
    "Endpoint",
    "EndpointReport",
    "LeaseLost",
    "Secret",
    "Tuning",
    "change_id",
    "deliver",
    "load_deliveries",
    "replay_dead_letters",
    "signature",
    "verify_signature",
]
