"""coretech.models."""
