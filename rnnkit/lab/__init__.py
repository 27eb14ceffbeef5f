"""Floor 4: the comparison lab. Long-range problems, ``compare`` and gradient diagnostics;
it trains through the tasks and the trainer."""
