"""What can go wrong while delivering, as errors a user can act on."""

from __future__ import annotations

from segwise.errors import SegwiseError


class DeliveryError(SegwiseError):
    """A delivery that cannot run: an unset secret, a store that cannot be opened or written."""


class LeaseLost(DeliveryError):
    """Another deliverer took over the endpoint's lease (ours had expired): stop sending to it."""
