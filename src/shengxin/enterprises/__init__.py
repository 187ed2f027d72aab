"""Enterprises: registry, unified social credit codes, data hub, portraits."""
