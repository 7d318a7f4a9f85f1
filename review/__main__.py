"""`python -m review`: the review command line."""

from review.cli import app

app()
