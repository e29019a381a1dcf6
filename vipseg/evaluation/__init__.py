"""Metrics, registered in :data:`vipseg.registry.METRICS`."""

from .metrics import *  # noqa: F401,F403
