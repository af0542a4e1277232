"""Dictionary sensitivity: how much the paper's estimates move when the dictionary changes.

    from coretech.sensitivity import run_sensitivity
    run_sensitivity(patents=..., dictionary=..., candidates=..., breakthrough=..., panel=..., out=...)

See docs/sensitivity.md for what each variant means for a paper's robustness section.
"""

from coretech.sensitivity.run import run_sensitivity

__all__ = ["run_sensitivity"]
