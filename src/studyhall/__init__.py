"""studyhall: the reference student platform perfgate tests (see README.md here)."""

__version__ = "0.1.0"
