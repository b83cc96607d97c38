"""The durable local outbox (SQLite, WAL): every message is stored before it is forwarded.

* ``append`` gives each event its ``seq`` (per endpoint, locker, compartment; persisted, so
  it keeps growing across restarts) and its ``event_id`` (stored with the payload, so a
  resend carries the same id), in one transaction with the alarm bookkeeping.
* ``append_entry`` stores a keypad entry's ``CodeEntered`` only the first time it sees the
  entry's vendor identity (kept in ``keypad_entries``), so re-reading an entry stores nothing.
* ``claim`` hands the forwarder the next batch, alarms/audit/health/results before bulk
  state and telemetry. The batch number is written down first: if the gateway dies after
  Redis took a batch but before ``release``, the same batch goes again under the same
  number, and the forwarder's de-duplication key makes that resend a no-op.
* One process per outbox file (an exclusive lock), all SQLite work on one thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import msgspec

from opcua_gateway.alarms import AlarmKey
from opcua_gateway.contracts import (
    EVENTS_STREAM,
    PRIORITY_EVENTS,
    RESULTS_STREAM,
    AlarmKind,
    CodeEntered,
    CommandResult,
    LockerEvent,
    encode,
)

T = TypeVar("T")
E = TypeVar("E", bound=LockerEvent)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, priority INTEGER NOT NULL, stream TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE, payload BLOB NOT NULL, batch INTEGER);
CREATE INDEX IF NOT EXISTS outbox_next ON outbox (priority, id) WHERE batch IS NULL;
CREATE INDEX IF NOT EXISTS outbox_batch ON outbox (batch) WHERE batch IS NOT NULL;
CREATE TABLE IF NOT EXISTS seq (
    endpoint_id TEXT NOT NULL, locker TEXT NOT NULL, compartment TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, locker, compartment));
CREATE TABLE IF NOT EXISTS alarms (
    alarm_id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, locker TEXT NOT NULL, compartment TEXT,
    kind TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answered (request_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS topology (
    endpoint_id TEXT NOT NULL, locker TEXT NOT NULL, compartment TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, locker, compartment));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keypad_entries (
    endpoint_id TEXT NOT NULL, locker TEXT NOT NULL, entry TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (endpoint_id, locker, entry));
"""
_KEEP_ANSWERED_S = 7 * 24 * 3600
_KEEP_ENTRIES_S = 30 * 24 * 3600  # the newest entry of each locker is kept regardless


class OutboxLocked(RuntimeError):
    """Another gateway process uses this outbox file."""


@dataclass(frozen=True)
class Batch:
    key: str  # unique across outboxes and restarts: "<outbox uuid>:<batch number>"
    number: int
    messages: list[tuple[str, bytes]]  # (stream, payload)


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.added = asyncio.Event()  # set whenever something was appended
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._db: sqlite3.Connection | None = None
        self._lock: IO[bytes] | None = None
        self._seq: dict[tuple[str, str, str], int] = {}
        self.uuid = ""

    @classmethod
    async def open(cls, path: Path) -> Outbox:
        outbox = cls(path)
        try:
            await outbox._run(outbox._open)
        except BaseException:
            outbox._executor.shutdown(wait=False)
            raise
        return outbox

    async def close(self) -> None:
        await self._run(self._close)
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    # -- writing ----------------------------------------------------------------------------

    async def append(self, events: Sequence[LockerEvent],
                     alarms: tuple[str, dict[AlarmKey, str]] | None = None) -> list[LockerEvent]:
        """Store events (assigning seq and event_id); ``alarms`` is (endpoint, its active alarms) to remember."""
        if not events and alarms is None:
            return []
        stored = await self._run(lambda: self._append(events, alarms))
        self.added.set()
        return stored

    async def append_entry(self, event: CodeEntered, entry: str) -> CodeEntered | None:
        """Store the event of one keypad entry, unless this entry was stored before: ``entry`` is
        the vendor's identity of it (a source timestamp, an OPC UA EventId). None: already stored."""
        stored = await self._run(lambda: self._append_entry(event, entry))
        if stored is not None:
            self.added.set()
        return stored

    async def append_result(self, result: CommandResult) -> None:
        """Store a command's result and remember that its request was answered."""
        await self._run(lambda: self._append_result(result))
        self.added.set()

    # -- reading ----------------------------------------------------------------------------

    async def answered(self, request_id: str) -> bool:
        return await self._run(lambda: self._db_().execute(
            "SELECT 1 FROM answered WHERE request_id = ?", (request_id,)).fetchone() is not None)

    async def active_alarms(self, endpoint_id: str) -> list[tuple[AlarmKey, str]]:
        rows = await self._run(lambda: self._db_().execute(
            "SELECT locker, compartment, kind, source, alarm_id FROM alarms WHERE endpoint_id = ?",
            (endpoint_id,)).fetchall())
        return [((locker, compartment, AlarmKind(kind), source), alarm_id)
                for locker, compartment, kind, source, alarm_id in rows]

    async def remember_topology(self, endpoint_id: str, compartments: Iterable[tuple[str, str]]) -> None:
        """The compartments last found at an endpoint, to report them offline after a restart."""
        rows = [(endpoint_id, locker, compartment) for locker, compartment in compartments]

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM topology WHERE endpoint_id = ?", (endpoint_id,))
            db.executemany("INSERT INTO topology VALUES (?, ?, ?)", rows)

        await self._run(lambda: self._transaction(work))

    async def known_topology(self, endpoint_id: str) -> list[tuple[str, str]]:
        rows = await self._run(lambda: self._db_().execute(
            "SELECT locker, compartment FROM topology WHERE endpoint_id = ?", (endpoint_id,)).fetchall())
        return [(locker, compartment) for locker, compartment in rows]

    async def pending(self) -> int:
        return int(await self._run(lambda: self._db_().execute("SELECT count(*) FROM outbox").fetchone()[0]))

    async def claim(self, limit: int) -> Batch | None:
        return await self._run(lambda: self._claim(limit))

    async def release(self, batch: Batch) -> None:
        """Redis has the batch: forget it."""
        await self._run(lambda: self._transaction(
            lambda db: db.execute("DELETE FROM outbox WHERE batch = ?", (batch.number,))))

    # -- on the outbox thread ---------------------------------------------------------------

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = (self.path.parent / (self.path.name + ".lock")).open("wb")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise OutboxLocked(f"{self.path} is in use by another gateway process") from None
        self._lock = lock
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        self._db = db
        row = db.execute("SELECT value FROM meta WHERE key = 'uuid'").fetchone()
        if row is None:
            self.uuid = uuid.uuid4().hex
            db.execute("INSERT INTO meta (key, value) VALUES ('uuid', ?)", (self.uuid,))
        else:
            self.uuid = row[0]
        db.execute("DELETE FROM answered WHERE at < ?", (time.time() - _KEEP_ANSWERED_S,))
        db.execute("DELETE FROM keypad_entries WHERE at < ? AND rowid NOT IN "
                   "(SELECT max(rowid) FROM keypad_entries GROUP BY endpoint_id, locker)",
                   (time.time() - _KEEP_ENTRIES_S,))

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def _db_(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the outbox is closed")
        return self._db

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db_()
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    def _append(self, events: Sequence[LockerEvent], alarms: tuple[str, dict[AlarmKey, str]] | None,
                ) -> list[LockerEvent]:
        seqs: dict[tuple[str, str, str], int] = {}

        def work(db: sqlite3.Connection) -> list[LockerEvent]:
            stored = [self._store(db, event, seqs) for event in events]
            self._save_seqs(db, seqs)
            if alarms is not None:
                endpoint_id, active = alarms
                db.execute("DELETE FROM alarms WHERE endpoint_id = ?", (endpoint_id,))
                rows = [(alarm_id, endpoint_id, k[0], k[1], k[2].value, k[3]) for k, alarm_id in active.items()]
                db.executemany("INSERT INTO alarms VALUES (?, ?, ?, ?, ?, ?)", rows)
            return stored

        stored = self._transaction(work)
        self._seq.update(seqs)
        return stored

    def _append_entry(self, event: CodeEntered, entry: str) -> CodeEntered | None:
        seqs: dict[tuple[str, str, str], int] = {}

        def work(db: sqlite3.Connection) -> CodeEntered | None:
            new = db.execute("INSERT OR IGNORE INTO keypad_entries VALUES (?, ?, ?, ?)",
                             (event.endpoint_id, event.locker, entry, time.time())).rowcount
            if not new:
                return None
            final = self._store(db, event, seqs)
            self._save_seqs(db, seqs)
            return final

        stored = self._transaction(work)
        self._seq.update(seqs)
        return stored

    def _store(self, db: sqlite3.Connection, event: E, seqs: dict[tuple[str, str, str], int]) -> E:
        """Insert one event with the next seq of its (endpoint, locker, compartment) and a new event id."""
        key = (event.endpoint_id, event.locker, event.compartment or "")
        value = seqs.get(key) or self._seq.get(key) or self._read_seq(db, key)
        seqs[key] = value + 1
        final = msgspec.structs.replace(event, seq=value + 1, event_id=uuid.uuid4().hex)
        priority = 0 if isinstance(event, PRIORITY_EVENTS) else 1
        db.execute("INSERT INTO outbox (priority, stream, message_id, payload) VALUES (?, ?, ?, ?)",
                   (priority, EVENTS_STREAM, final.event_id, encode(final)))
        return final

    @staticmethod
    def _save_seqs(db: sqlite3.Connection, seqs: dict[tuple[str, str, str], int]) -> None:
        db.executemany("INSERT INTO seq (endpoint_id, locker, compartment, value) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT DO UPDATE SET value = excluded.value",
                       [(*key, value) for key, value in seqs.items()])

    def _read_seq(self, db: sqlite3.Connection, key: tuple[str, str, str]) -> int:
        row = db.execute("SELECT value FROM seq WHERE endpoint_id = ? AND locker = ? AND compartment = ?",
                         key).fetchone()
        return int(row[0]) if row else 0

    def _append_result(self, result: CommandResult) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR IGNORE INTO outbox (priority, stream, message_id, payload) VALUES (0, ?, ?, ?)",
                       (RESULTS_STREAM, f"result:{result.request_id}", encode(result)))
            db.execute("INSERT OR REPLACE INTO answered (request_id, at) VALUES (?, ?)",
                       (result.request_id, time.time()))

        self._transaction(work)

    def _claim(self, limit: int) -> Batch | None:
        def work(db: sqlite3.Connection) -> Batch | None:
            row = db.execute("SELECT min(batch) FROM outbox WHERE batch IS NOT NULL").fetchone()
            number = row[0] if row else None
            if number is None:
                ids = [r[0] for r in db.execute(
                    "SELECT id FROM outbox WHERE batch IS NULL ORDER BY priority, id LIMIT ?", (limit,))]
                if not ids:
                    return None
                last = db.execute("SELECT value FROM meta WHERE key = 'batch'").fetchone()
                number = (int(last[0]) if last else 0) + 1
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('batch', ?)", (str(number),))
                db.executemany("UPDATE outbox SET batch = ? WHERE id = ?", [(number, i) for i in ids])
            rows = db.execute("SELECT stream, payload FROM outbox WHERE batch = ? ORDER BY priority, id",
                              (number,)).fetchall()
            return Batch(f"{self.uuid}:{number}", number, [(stream, bytes(payload)) for stream, payload in rows])

        return self._transaction(work)
