"""Escalation: policies, the set-based deadline sweep, and the board people work from."""
