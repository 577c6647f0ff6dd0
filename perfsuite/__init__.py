"""django-perfsuite: a performance toolkit of pluggable Django apps."""

__version__ = "0.1.0"
__all__ = ["__version__"]
