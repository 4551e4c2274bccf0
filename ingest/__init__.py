"""Channel adapters and the one producer through which every tip enters tipline."""
