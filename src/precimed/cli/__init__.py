"""The ``precimed`` command: one module per command group."""
