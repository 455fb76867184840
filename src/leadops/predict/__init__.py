"""Predictive scoring: the probability of an appointment or a win learned from leadops' own
history, with each lead's strongest reasons (see docs/predictions.md)."""
