"""Deadlines: the Russian deadline parser and the production calendar."""
