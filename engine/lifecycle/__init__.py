"""Lifecycles applied: definitions on `transitions`, and firing a trigger in SQL."""
