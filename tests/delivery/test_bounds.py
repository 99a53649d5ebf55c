"""What a receiver can make the sender spend (issue 21): each channel delivered on its own, a
deadline for the whole of each call, a receiver's answer read up to a cap, a lease renewed while a
slow call runs. Real sockets: HTTP receivers on 127.0.0.1, aiosmtpd, SMTP servers that stall."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.db import make_engine
from app.delivery import outbox, webhooks
from app.delivery.sender import Sender
from app.models import OutboxMessage
from tests.utils.mail import smtp_server
from tests.utils.server import free_port

MAIL = "From: u4ssc@itu.int\r\nTo: list@example.org\r\nSubject: test\r\n\r\nhello\r\n"


def _settings(database_url: str, smtp_port: int, **extra: object) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        announce_to="list@example.org",
        outbox_retry_seconds=1,
        outbox_poll_seconds=0.2,
        **extra,  # type: ignore[arg-type]
    )


def _enqueue_mail(engine: Engine, policy: outbox.Policy) -> str:
    with Session(engine) as session:
        message = outbox.enqueue(session, outbox.MAIL, "list@example.org", "test", MAIL, policy)
        session.commit()
        return message.message_id


def _enqueue_webhook(engine: Engine, policy: outbox.Policy, url: str) -> str:
    with Session(engine) as session:
        hook, _secret = webhooks.add(session, url)
        message = outbox.enqueue(
            session, outbox.WEBHOOK, url, "meeting.updated", '{"x":1}', policy, webhook_id=hook.id
        )
        session.commit()
        return message.message_id


def _status(engine: Engine, message_id: str) -> str:
    with Session(engine) as session:
        row = session.exec(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        ).one()
        return row.status


@contextmanager
def _sending(sender: Sender) -> Iterator[None]:
    """The sender's background loop, in a thread of its own, until the block ends."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(sender.run_forever(stop),))
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()


def _until(check: object, deadline: float) -> float:
    """Seconds until `check()` holds, or the deadline (then inf)."""
    began = time.monotonic()
    while time.monotonic() - began < deadline:
        if check():  # type: ignore[operator]
            return time.monotonic() - began
        time.sleep(0.05)
    return float("inf")


@contextmanager
def _listener(serve: object) -> Iterator[int]:
    """A raw TCP server on 127.0.0.1 running `serve(connection)` per connection."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(connection, stop), daemon=True).start()  # type: ignore[arg-type]

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        sock.close()
        thread.join(timeout=5)


def _drip(connection: socket.socket, stop: threading.Event) -> None:
    """An HTTP receiver that reads the request, then sends its answer a byte every 2 s."""
    with connection:
        connection.recv(65536)
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000
        for byte in answer:
            if stop.wait(2.0):
                return
            try:
                connection.send(bytes([byte]))
            except OSError:
                return


def _silent_smtp(connection: socket.socket, stop: threading.Event) -> None:
    """An SMTP server that accepts the connection and never says a word."""
    with connection:
        stop.wait(120)


def test_a_receiver_dripping_forever_does_not_hold_up_the_mail(
    database_url: str, tmp_path: Path
) -> None:
    with smtp_server() as inbox, _listener(_drip) as drip_port:
        settings = _settings(database_url, inbox.port)  # type: ignore[attr-defined]
        engine = make_engine(database_url)
        sender = Sender.from_settings(engine, settings)
        hook = _enqueue_webhook(engine, sender.policy, f"http://127.0.0.1:{drip_port}/hook")
        mail = _enqueue_mail(engine, sender.policy)
        with _sending(sender):
            waited = _until(lambda: _status(engine, mail) == outbox.SENT, 30)
            assert _status(engine, hook) == outbox.PENDING  # still dripping, or retried
        engine.dispose()
    print(f"figures: the mail waited {waited:.2f} s behind the dripping receiver")
    assert waited < 10, f"the mail waited {waited:.1f} s behind the dripping receiver"
    assert len(inbox.raw) == 1


def test_an_smtp_server_that_never_answers_does_not_hold_up_the_webhooks(
    database_url: str, tmp_path: Path
) -> None:
    from tests.delivery.test_webhooks import Receiver, receiving

    with _listener(_silent_smtp) as smtp_port, receiving(Receiver(free_port())) as receiver:
        settings = _settings(database_url, smtp_port)
        engine = make_engine(database_url)
        sender = Sender.from_settings(engine, settings)
        mail = _enqueue_mail(engine, sender.policy)
        hook = _enqueue_webhook(engine, sender.policy, receiver.url)
        with _sending(sender):
            waited = _until(lambda: _status(engine, hook) == outbox.SENT, 30)
            assert _status(engine, mail) == outbox.PENDING
        engine.dispose()
    print(f"figures: the webhook waited {waited:.2f} s behind the silent SMTP server")
    assert waited < 10, f"the webhook waited {waited:.1f} s behind the silent SMTP server"
    assert len(receiver.calls) == 1


def _rss_kb() -> int:
    found = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert found is not None
    return int(found.group(1))


def _huge_answer(connection: socket.socket, stop: threading.Event) -> None:
    """A receiver whose answer is 400 MB, sent as fast as the socket takes it."""
    with connection:
        connection.recv(65536)
        size = 400 * 2**20
        try:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            chunk = b"y" * 2**20
            for _ in range(400):
                if stop.is_set():
                    return
                connection.sendall(chunk)
        except OSError:
            return  # the sender stopped reading and closed: as it should


def test_a_400_mb_answer_is_read_only_up_to_the_cap(database_url: str) -> None:
    with _listener(_huge_answer) as port:
        settings = _settings(database_url, free_port())
        engine = make_engine(database_url)
        sender = Sender.from_settings(engine, settings)
        hook = _enqueue_webhook(engine, sender.policy, f"http://127.0.0.1:{port}/hook")
        before = _rss_kb()
        attempted = asyncio.run(sender.drain())
        grown = _rss_kb() - before
        status = _status(engine, hook)
        engine.dispose()
    assert attempted == 1 and status == outbox.SENT
    print(f"figures: RSS +{grown} kB reading a 400 MB answer")
    assert grown < 20 * 1024, f"RSS grew by {grown} kB reading the answer"


class _Slow:
    """A receiver that takes `seconds` per call and counts the calls in flight per webhook-id."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most = 0
        self.calls = 0

    def __call__(self, connection: socket.socket, stop: threading.Event) -> None:
        with connection:
            request = connection.recv(65536).decode("latin-1")
            found = re.search(r"webhook-id: (\S+)", request, re.IGNORECASE)
            key = found.group(1) if found else "?"
            with self.lock:
                self.calls += 1
                self.in_flight[key] = self.in_flight.get(key, 0) + 1
                self.most = max(self.most, self.in_flight[key])
            stop.wait(self.seconds)
            with self.lock:
                self.in_flight[key] -= 1
            with suppress(OSError):
                connection.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")


def test_two_senders_with_a_lease_shorter_than_a_slow_call_make_one_call_at_a_time(
    database_url: str,
) -> None:
    receiver = _Slow(seconds=4)
    with _listener(receiver) as port:
        settings = _settings(database_url, free_port(), outbox_lease_seconds=1)
        engine = make_engine(database_url)
        first = Sender.from_settings(engine, settings)
        second = Sender.from_settings(engine, settings)
        assert first.worker != second.worker
        hook = _enqueue_webhook(engine, first.policy, f"http://127.0.0.1:{port}/hook")
        with _sending(first), _sending(second):
            _until(lambda: _status(engine, hook) == outbox.SENT, 30)
            time.sleep(2)  # a second call, had the lease lapsed, would be in flight by now
        status = _status(engine, hook)
        engine.dispose()
    assert status == outbox.SENT
    assert receiver.most == 1, f"{receiver.most} calls with one webhook-id at once"
    assert receiver.calls == 1


def test_the_lease_is_renewed_while_a_delivery_runs(database_url: str) -> None:
    receiver = _Slow(seconds=3)
    with _listener(receiver) as port:
        settings = _settings(database_url, free_port(), outbox_lease_seconds=1)
        engine = make_engine(database_url)
        sender = Sender.from_settings(engine, settings)
        hook = _enqueue_webhook(engine, sender.policy, f"http://127.0.0.1:{port}/hook")
        leases: list[dt.datetime] = []
        with _sending(sender):
            began = time.monotonic()
            while time.monotonic() - began < 2.5:
                with Session(engine) as session:
                    row = session.exec(
                        select(OutboxMessage).where(OutboxMessage.message_id == hook)
                    ).one()
                    if row.lease_until is not None:
                        leases.append(row.lease_until)
                time.sleep(0.2)
            _until(lambda: _status(engine, hook) == outbox.SENT, 30)
        engine.dispose()
    assert len(set(leases)) >= 2, "the lease was never extended"
