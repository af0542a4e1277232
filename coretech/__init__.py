"""coretech: measure technological breakthroughs from patents.

Stages (data flows one way): crawler -> ipc scheme table -> matching -> dictionary ->
indicators -> models -> tables and report.
"""

__version__ = "0.1.0"
