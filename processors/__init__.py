"""Processing stages (one module each) and the faust app that wires them (``app.py``)."""
