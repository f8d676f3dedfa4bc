"""The demo catalog loaded by `make run`."""
