"""A local SMTP server that keeps every mail it receives as an .eml file.

Used by `make up` (smtp 127.0.0.1:8025, mails under `.local/mail/`) and by tests,
which start one on a free port with `running_mailbox` and read what arrived.

Run it with `python -m lc_localstack.mailbox --port 8025 --dir .local/mail`.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirHandler:
    """aiosmtpd handler: each accepted mail becomes `<time>-<uuid>.eml` in a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.arrived = asyncio.Condition()
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        # Written aside then renamed, so a reader never sees half a mail.
        tmp.write_bytes(content)
        os.replace(tmp, self.directory / name)
        async with self.arrived:
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class Mailbox:
    """A running SMTP server and the folder it writes to."""

    def __init__(self, handler: MaildirHandler, server: asyncio.Server, host: str) -> None:
        self.directory = handler.directory
        self._handler = handler
        self.host = host
        self._server = server

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    def files(self) -> list[Path]:
        """The stored mails, oldest first."""
        return sorted(self.directory.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        """The stored mails, parsed, oldest first."""
        parsed = []
        for path in self.files():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    async def wait_for(self, count: int, within: float = 15.0) -> list[EmailMessage]:
        """Wait until at least `count` mails arrived; raise TimeoutError after `within` seconds."""
        arrived = self._handler.arrived
        async with asyncio.timeout(within), arrived:
            await arrived.wait_for(lambda: len(self.files()) >= count)
        return self.messages()

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()


async def start_mailbox(directory: Path, host: str = "127.0.0.1", port: int = 0) -> Mailbox:
    """Start serving SMTP in the running event loop (port 0: a free port)."""
    handler = MaildirHandler(directory)
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return SMTP(handler, hostname="mailbox.local", ident="lc-mailbox")

    server = await loop.create_server(factory, host=host, port=port)
    return Mailbox(handler, server, host)


@asynccontextmanager
async def running_mailbox(
    directory: Path, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Mailbox]:
    """A mailbox for the duration of the block."""
    mailbox = await start_mailbox(directory, host, port)
    try:
        yield mailbox
    finally:
        await mailbox.close()


async def _serve(directory: Path, host: str, port: int) -> None:
    mailbox = await start_mailbox(directory, host, port)
    print(f"mailbox: smtp {host}:{mailbox.port}, mails in {directory}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await mailbox.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SMTP server that keeps mails as files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".local/mail"))
    args: Any = parser.parse_args(argv)
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.dir, args.host, args.port))


if __name__ == "__main__":
    main()
