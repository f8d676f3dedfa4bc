"""Inference backends: how versions are built and run. One interface, picked by
`INFERENCE_BACKEND`: `local` (Cog runtime processes in per-version virtualenvs) or
`cog-http` (Cog servers already running at URLs)."""
