"""The registry: Vitrine's domain, its Replicate-compatible API, and its backends."""
