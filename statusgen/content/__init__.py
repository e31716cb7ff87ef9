"""statusgen.content."""
