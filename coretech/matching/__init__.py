"""coretech.matching."""
