"""CLI command groups. Each module holds one Typer app in the users' words."""
