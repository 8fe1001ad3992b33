"""Outgoing notifications (email now; webhooks later)."""
