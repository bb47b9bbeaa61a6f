"""runlogs package."""
