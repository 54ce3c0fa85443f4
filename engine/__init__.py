"""Roadmap Engine domain: models, lifecycle rules, services. Knows nothing of Flask or Celery."""
