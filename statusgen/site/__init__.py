"""statusgen.site."""
