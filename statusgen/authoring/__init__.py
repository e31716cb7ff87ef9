"""statusgen.authoring.files."""
