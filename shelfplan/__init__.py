"""shelfplan: place library books so that visits are short walks."""

__version__ = "0.1.0"
