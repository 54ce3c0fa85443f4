"""Notices: writing notifications, the inbox that words them, the outbox and mail, digests."""
