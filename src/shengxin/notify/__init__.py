"""Notifications: an outbox in the operational store, delivered by a sender chosen by settings."""
