"""Scoring: the pure engine (engine.py) and the service that runs it on ingest, rescore and
sweeps."""
