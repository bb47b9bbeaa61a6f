"""workspaces package."""
