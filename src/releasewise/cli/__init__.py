"""The `releasewise` command line (Typer + Rich)."""
