"""Operator commands: `python -m lc_gateway.admin create-account|create-api-key ...`.

Each prints one JSON object on stdout, for scripts (`make up` creates the demo
account this way). API keys are printed once and stored only as hashes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

from lc_common.store import connect_mongo, database
from lc_gateway.accounts import AccountService
from lc_gateway.adapters.mongo import MongoAccountRepository
from lc_gateway.config import GatewaySettings
from lc_gateway.domain.accounts import DEFAULT_TIME_ZONE


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per operation."""
    root = argparse.ArgumentParser(prog="lc-gateway-admin", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create-account",
        help="create an account and its login (idempotent on the login), print a new API key",
    )
    create.add_argument("--name", required=True, help="the client's name (Client column)")
    create.add_argument("--email", required=True, help="login and contact address")
    create.add_argument("--password", required=True, help="control panel password")
    create.add_argument("--time-zone", default=DEFAULT_TIME_ZONE, help="for emails and times")
    key = commands.add_parser("create-api-key", help="print a new API key for a login's account")
    key.add_argument("--login", required=True, help="the user's login (email)")
    return root


async def execute(args: argparse.Namespace, settings: GatewaySettings) -> dict[str, Any]:
    """Run one command against the store; the JSON object to print."""
    client = connect_mongo(settings)
    try:
        repository = MongoAccountRepository(database(client, settings))
        await repository.ensure_indexes()
        service = AccountService(repository)
        if args.command == "create-account":
            created = await service.create_account(
                name=args.name, email=args.email, password=args.password, time_zone=args.time_zone
            )
            return {
                "account_id": created.account.id,
                "login": created.login,
                "api_key": created.api_key,
            }
        user, issued = await service.issue_api_key_for_login(args.login)
        return {"account_id": user.account_id, "login": user.login, "api_key": issued.secret}
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit status 0 on success, 1 with a message on stderr otherwise."""
    args = parser().parse_args(argv)
    settings = GatewaySettings()
    try:
        result = asyncio.run(execute(args, settings))
    except (LookupError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
