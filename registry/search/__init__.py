"""Search: one interface (`base.SearchBackend`) with backends picked by `SEARCH_BACKEND`.

What other code calls:

- `registry.search.service.search_models(...)`: a page of results with total and facets.
- `index_model(model_id)` / `index_models(ids)`: after a write that changes what search
  shows of a model (services call it; see `sync`).
- `record_run(model_id)`: for every run counted (`run_counters`: its statements, to
  put in a statement of one's own).
"""

from __future__ import annotations

from registry.search.sync import index_model, index_models, model_removed, record_run, run_counters

__all__ = ["index_model", "index_models", "model_removed", "record_run", "run_counters"]
