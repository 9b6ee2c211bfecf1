"""One error hierarchy for the library; the CLI turns these into one-line messages."""


class ShelfplanError(Exception):
    """Base class for every error a user can cause."""


class LoansError(ShelfplanError):
    """The loans file cannot be read or makes no sense."""


class HallError(ShelfplanError):
    """The hall file is invalid or cannot hold the items."""


class LayoutError(ShelfplanError):
    """A layout file is invalid, or no feasible layout was reached."""
