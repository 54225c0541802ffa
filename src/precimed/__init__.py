"""precimed: an open, self-hostable precision-medicine data platform."""

__version__ = "0.1.0"
