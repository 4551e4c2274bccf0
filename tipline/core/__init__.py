"""Foundations (settings, errors, metrics, http, topic names): import nothing else of ours."""
