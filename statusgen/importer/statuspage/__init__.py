"""Moving from a hosted Atlassian Statuspage: its public or manage API, or saved JSON."""
