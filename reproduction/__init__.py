"""One script per paper experiment, plus the shared runner they are thin wrappers around."""
