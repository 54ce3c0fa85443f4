"""Read models: what the pages, the API and the CLI list and show, tenant-scoped in SQL."""
