"""colour-science, imported once and quietly.

colour-science warns at import that SciPy and Matplotlib are absent; we use neither of
the features that need them (conversions, matrix correction and ΔE2000 are NumPy only).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import colour as colour_science

colour_science.utilities.filter_warnings(colour_usage_warnings=True)

# The reference white of every Lab value Vitrine stores: sRGB's own, D65 (CIE 1931 2°).
D65 = colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]

__all__ = ["D65", "colour_science"]
