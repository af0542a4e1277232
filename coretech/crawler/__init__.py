"""coretech.crawler."""
