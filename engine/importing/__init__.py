"""Importing roadmap documents: readers, structure recovery, and writing roadmaps."""
