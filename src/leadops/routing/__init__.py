"""Routing: pure strategies that choose a person within a team (strategies.py)."""
