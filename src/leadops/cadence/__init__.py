"""Behaviour over time: statuses, touches, approach requests, deadlines and the SLA sweep."""
