"""Accounts: users, roles, scopes and authentication."""
