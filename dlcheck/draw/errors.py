"""Errors of the digit demo, on the package's one hierarchy."""

from __future__ import annotations

from dlcheck.errors import DataError, DlcheckError, UsageError


class NothingDrawn(DataError):
    """The image holds no ink: there is no digit to recognise, so there is no guess."""

    def __init__(self, where: str = "image") -> None:
        super().__init__(
            f"{where}: nothing drawn (no ink found)",
            hint="draw a digit (dark on light, or light on dark) and try again",
        )
        self.where = where


class NotAnImage(DataError):
    """A file that Pillow cannot read as an image."""


class NoDisplay(UsageError):
    """`dlcheck draw` cannot open a window here."""


__all__ = ["DlcheckError", "NoDisplay", "NotAnImage", "NothingDrawn"]
