"""The version of losskit."""

__version__ = "0.1.0"
