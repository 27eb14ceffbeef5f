"""Layer 4: one file per task, each a thin composition of data, model and trainer."""
