"""Vitrine's Replicate-compatible HTTP API under `/v1/`."""
