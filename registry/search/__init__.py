"""Search backends: one interface (`base.SearchBackend`), picked by `SEARCH_BACKEND`."""
