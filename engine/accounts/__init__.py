"""Accounts and access: users, passwords, tokens, and who may reach what."""
