"""statusgen.notify.run."""
