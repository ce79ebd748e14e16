"""`leadcleanser`: the Lead Cleanser command line, on the public API v1 only.

Every command takes `--url` and `--api-key` (or `LC_URL` and `LC_API_KEY`)
and `--json`, which prints the API's JSON on stdout instead of tables, and
errors as `{"error": {"code", "message", "status"}}` on stderr. Progress bars
and notes go to stderr, so stdout is only the answer.

Exit codes:
  0  done (with --wait: the batch is Finished)
  1  the batch Failed (or was deleted) while waiting
  2  usage: a bad option or argument, or a request the API refused as invalid
  3  authentication: the API key is missing, wrong or not allowed (401, 403)
  4  not found: no such batch in this account (404)
  5  network or server error: unreachable, timed out, 5xx, or rate-limited
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import IntEnum
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from leadcleanser.client import (
    ApiError,
    AuthError,
    Client,
    ConnectionFailed,
    LeadCleanserError,
    NotFound,
    ServerError,
)
from leadcleanser.output import (
    batch_table,
    batches_table,
    emit_json,
    format_units,
    show_error,
    status_label,
)
from leadcleanser.progress import FINISHED, follow


class ExitCode(IntEnum):
    OK = 0
    BATCH_FAILED = 1
    USAGE = 2
    AUTH = 3
    NOT_FOUND = 4
    UNAVAILABLE = 5


EXIT_CODES_HELP = (
    "Exit codes: 0 done (with --wait: Finished) · 1 the batch Failed · 2 usage or a request "
    "refused as invalid · 3 bad or missing API key · 4 no such batch · 5 network or server error."
)

app = typer.Typer(
    help="Lead Cleanser: test call-centre leads on the telephone network.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

Url = Annotated[
    str,
    typer.Option(
        "--url", envvar="LC_URL", show_envvar=True, help="The service, e.g. https://leads.example"
    ),
]
ApiKey = Annotated[
    str,
    typer.Option(
        "--api-key",
        envvar="LC_API_KEY",
        show_envvar=True,
        help="An API key of the account (prefer the variable: options show in `ps`).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of tables.")]
BatchId = Annotated[str, typer.Argument(help="The batch id, e.g. bat_0123456789abcdef.")]


def exit_code(error: LeadCleanserError) -> ExitCode:
    """The exit code that reports `error`."""
    if isinstance(error, AuthError):
        return ExitCode.AUTH
    if isinstance(error, NotFound):
        return ExitCode.NOT_FOUND
    if isinstance(error, ConnectionFailed | ServerError):
        return ExitCode.UNAVAILABLE
    if isinstance(error, ApiError):
        return ExitCode.USAGE
    return ExitCode.UNAVAILABLE


@contextmanager
def reported(as_json: bool) -> Iterator[None]:
    """Turn a client error into its message on stderr and its exit code."""
    try:
        yield
    except LeadCleanserError as error:
        show_error(error, as_json, err)
        raise typer.Exit(exit_code(error)) from None


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"leadcleanser {version('leadcleanser')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Lead Cleanser: test call-centre leads on the telephone network."""


@app.command()
def upload(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV of leads."),
    ],
    name: Annotated[str, typer.Option("--name", help="A name for the batch.")],
    url: Url,
    api_key: ApiKey,
    reference: Annotated[str, typer.Option(help="Your own reference for the batch.")] = "",
    phone_column: Annotated[
        str | None,
        typer.Option(help="Header name or 0-based index of the phone column (default: guessed)."),
    ] = None,
    default_region: Annotated[
        str | None,
        typer.Option(help="Country of numbers without a country code, e.g. AU (the default)."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the batch until it is Finished or Failed.")
    ] = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Send this again on a retry to get the same batch, never a second."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Import a CSV as a new batch and print its id; with --wait, follow it to the end."""
    fields = {"name": name, "reference": reference}
    if phone_column is not None:
        fields["phone_column"] = phone_column
    if default_region is not None:
        fields["default_region"] = default_region
    with reported(as_json), Client(url, api_key) as client:
        batch = _upload_with_bar(client, file, fields, idempotency_key)
        batch_id = str(batch["id"])
        if not as_json:
            typer.echo(batch_id)
            err.print(f"Batch {batch_id} created: {status_label(str(batch['status']))}.")
        if not wait:
            if as_json:
                emit_json(batch)
            return
        try:
            batch = follow(client, batch_id, err)
        except KeyboardInterrupt:
            err.print(f"Stopped waiting; the batch goes on (leadcleanser show {batch_id}).")
            raise typer.Exit(130) from None
        if as_json:
            emit_json(batch)
        if batch["status"] != FINISHED:
            raise typer.Exit(ExitCode.BATCH_FAILED)
        err.print(
            f"Finished: {batch['connected']} connected, {batch['disconnected']} disconnected, "
            f"{batch['indeterminate']} indeterminate, {batch['rejected']} rejected at import."
        )


def _upload_with_bar(
    client: Client, file: Path, fields: dict[str, str], idempotency_key: str | None
) -> dict[str, Any]:
    columns = (
        TextColumn("Uploading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(file.name, total=file.stat().st_size)
        sent: Callable[[int], None] = lambda n: bar.advance(task, n)  # noqa: E731
        return client.upload(file, fields, sent, idempotency_key=idempotency_key)


@app.command("batches")
def list_batches(url: Url, api_key: ApiKey, as_json: Json = False) -> None:
    """Every batch of the account, newest first."""
    with reported(as_json), Client(url, api_key) as client:
        batches = client.batches()
    if as_json:
        emit_json({"batches": batches})
    elif batches:
        out.print(batches_table(batches))
    else:
        err.print("No batches yet.")


@app.command()
def show(batch_id: BatchId, url: Url, api_key: ApiKey, as_json: Json = False) -> None:
    """One batch with every counter."""
    with reported(as_json), Client(url, api_key) as client:
        batch = client.batch(batch_id)
    if as_json:
        emit_json(batch)
    else:
        out.print(batch_table(batch))


def _set_paused(batch_id: str, paused: bool, url: str, api_key: str, as_json: bool) -> None:
    with reported(as_json), Client(url, api_key) as client:
        batch = client.set_paused(batch_id, paused)
    if as_json:
        emit_json(batch)
    else:
        typer.echo(f"{batch['id']}: {status_label(str(batch['status']))}")


@app.command()
def pause(batch_id: BatchId, url: Url, api_key: ApiKey, as_json: Json = False) -> None:
    """Pause a batch: no new call starts within seconds (calls in flight finish)."""
    _set_paused(batch_id, True, url, api_key, as_json)


@app.command()
def unpause(batch_id: BatchId, url: Url, api_key: ApiKey, as_json: Json = False) -> None:
    """Unpause a batch: dialling resumes."""
    _set_paused(batch_id, False, url, api_key, as_json)


@app.command()
def balance(url: Url, api_key: ApiKey, as_json: Json = False) -> None:
    """The account's credit in Cleansing Units."""
    with reported(as_json), Client(url, api_key) as client:
        credit = client.balance()
    if as_json:
        emit_json(credit)
    else:
        typer.echo(format_units(credit))


@app.command()
def download(
    batch_id: BatchId,
    url: Url,
    api_key: ApiKey,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write here (default: stdout)."),
    ] = None,
    processed_on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Only the leads processed that day (UTC)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """The batch as CSV, byte for byte as the API sends it (UTF-8 with a BOM).

    With -o the file appears only once complete; with --json and -o, a summary
    `{"batch_id", "path", "bytes"}` is printed.
    """
    day = processed_on.date() if processed_on else None
    with reported(as_json), Client(url, api_key) as client:
        if output is None:
            client.download(batch_id, sys.stdout.buffer, day)
            sys.stdout.buffer.flush()
            return
        partial = output.with_name(output.name + ".part")
        try:
            with partial.open("wb") as sink:
                written = client.download(batch_id, sink, day)
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    if as_json:
        emit_json({"batch_id": batch_id, "path": str(output), "bytes": written})
    else:
        err.print(f"Wrote {written:,} bytes to {output}.", highlight=False)
