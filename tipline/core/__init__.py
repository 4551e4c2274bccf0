"""Foundations (settings, errors, metrics, http, topic names, client security): import nothing
else of ours."""
