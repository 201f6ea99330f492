"""Referral's commands (frozen dataclasses, imperative names), one module per area as in `service_layer.handlers`."""
