"""Flask web UI (issue 5): depends on engine and workflows, never on worker."""
