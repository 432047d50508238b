"""Adapters that implement the ports: in-memory reference adapters first, real ones beside them."""
