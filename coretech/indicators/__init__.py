"""coretech.indicators."""
