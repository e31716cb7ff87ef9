"""Delivering email: the outbox (a Maildir, the default) and SMTP.

Placeholder: being written.
"""
