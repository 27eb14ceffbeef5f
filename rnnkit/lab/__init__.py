"""Layer 3: the comparison lab. Long-range problems, ``compare`` and gradient diagnostics."""
