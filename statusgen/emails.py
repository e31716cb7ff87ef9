"""Notification emails from the theme's templates.

Placeholder: being written.
"""
