"""LEM: Linguistic Entity Masking workflow package."""
__version__ = "0.1.0"
