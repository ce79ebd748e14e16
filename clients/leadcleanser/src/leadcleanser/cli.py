"""`leadcleanser`: the command line entry point."""

import typer

app = typer.Typer(help="Lead Cleanser: test call-centre leads on the telephone network.")
