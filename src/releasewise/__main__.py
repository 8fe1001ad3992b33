"""``python -m releasewise`` runs the CLI."""

from releasewise.cli.main import app

app()
