"""Backends drive a Runner: memory.py for unit tests, faust.py for the real broker."""
