"""Floor 3: one file per task, each a thin composition of data, model and trainer on the
one run scaffold of :mod:`rnnkit.tasks.common`."""
