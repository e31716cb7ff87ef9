"""statusgen: a status site, feeds and email notifications from files in git."""

__version__ = "0.1.0"
