"""tipline: asynchronous, privacy-preserving tip ingestion."""

__version__ = "0.1.0"
