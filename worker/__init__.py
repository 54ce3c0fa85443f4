"""Celery worker (issue 4): depends on engine and workflows, never on web."""
