"""Cityscape's Python dev tooling (never on the serving path); run its scripts as modules from the repo root."""
