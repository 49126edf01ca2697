"""A run's shared state in Redis, and the rules that keep it exact.

Keys, under ``hfcrawl:<spider>:<run id>:`` (one Redis, not a Cluster: the
scripts touch keys they compute):

- ``requests`` (list): scrapy-redis' FIFO queue of encoded requests;
  ``dupefilter`` (set): scrapy-redis' request fingerprints.
- ``workers`` (hash): worker tag -> process token; a tag is alive while
  ``hfcrawl:proc:<token>`` exists (it expires unless its process renews it).
- ``leases:<tag>`` (list): the requests that worker took and has not finished.
  A request moves from ``requests`` to its worker's leases in one command
  (LMOVE), and leaves them only once every row it gave is in the worker's
  write-ahead log (``lease.py``), so a request is always queued, leased or done.
- ``feeder`` (token) / ``fed``: who runs ``start()``, and that it ran to its end.
- ``keys:<table>`` (set): row keys written, the dedup shared by every worker;
  ``claims:<tag>`` (set): keys a worker claimed whose rows may not be on disk
  yet (at most the last batch).
- ``stats:<tag>``: a finished worker's counters, for the last one's manifest.
- For a spider that follows a frontier (``lineage``, ``hub``; ``levels.py``):
  ``epoch`` (the level being crawled), ``rest`` (hash: tag -> the epoch at
  which that worker was last idle with every row of its in complete parts;
  taking a request clears it), ``taken:<follow>`` (set: references asked for),
  ``frontier_done`` (nothing left to follow: the workers close).

A worker whose token expired is dead. Any other takes its tag over and, in this
order: turns its write-ahead logs into parts, forgets the keys it claimed that
are not in its parts, puts its leases back at the head of the queue, and drops
the tag. Its requests are asked again only after its rows are known, so they
are neither lost nor written twice.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from hfcrawl.items import row_class
from hfcrawl.runfolder import PART_RE, RunFolder, finished_parts
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from redis import Redis

    from hfcrawl.runfolder import PartOptions

logger = logging.getLogger(__name__)

PROC = "hfcrawl:proc:"

# The caller still owns its tag: the tag maps to its token and the token lives.
_OWNER = """
local function owner(p, tag, token)
  return redis.call('HGET', p .. ':workers', tag) == token
     and redis.call('EXISTS', 'hfcrawl:proc:' .. token) == 1
end
"""

# KEYS: prefix; ARGV: tag, token, ttl ms
HEARTBEAT = (
    _OWNER
    + """
if not owner(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('PEXPIRE', 'hfcrawl:proc:' .. ARGV[2], ARGV[3])
return 1
"""
)

# KEYS: prefix; ARGV: tag, token, n, then requests done (acknowledged here,
# saving a round trip each) -> up to n encoded requests, now leased
POP = (
    _OWNER
    + """
local p, tag = KEYS[1], ARGV[1]
if not owner(p, tag, ARGV[2]) then return redis.error_reply('lost') end
local leases = p .. ':leases:' .. tag
for i = 4, #ARGV do redis.call('LREM', leases, 1, ARGV[i]) end
local out = {}
for i = 1, tonumber(ARGV[3]) do
  local data = redis.call('LMOVE', p .. ':requests', leases, 'RIGHT', 'LEFT')
  if not data then break end
  out[#out + 1] = data
end
-- a worker with work is not at rest: the next level waits for it (levels.py)
if #out > 0 then redis.call('HDEL', p .. ':rest', tag) end
return out
"""
)

# KEYS: prefix; ARGV: fingerprint, encoded request -> 1 queued, 0 seen before.
# One script: scrapy-redis marks the fingerprint and pushes in two commands, and a
# worker killed between them leaves a request seen that no queue holds.
PUSH = """
if redis.call('SADD', KEYS[1] .. ':dupefilter', ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[1] .. ':requests', ARGV[2])
return 1
"""

# KEYS: prefix; ARGV: tag, token, encoded requests done
ACK = (
    _OWNER
    + """
if not owner(KEYS[1], ARGV[1], ARGV[2]) then return redis.error_reply('lost') end
for i = 3, #ARGV do redis.call('LREM', KEYS[1] .. ':leases:' .. ARGV[1], 1, ARGV[i]) end
return 1
"""
)

# KEYS: prefix; ARGV: tag, token, n written, written members..., then table, key
# pairs -> 1 per pair new to the run (the caller writes it), 0 a duplicate
CLAIM = (
    _OWNER
    + """
local p, tag = KEYS[1], ARGV[1]
if not owner(p, tag, ARGV[2]) then return redis.error_reply('lost') end
local claims = p .. ':claims:' .. tag
local n = tonumber(ARGV[3])
for i = 4, 3 + n do redis.call('SREM', claims, ARGV[i]) end
local out = {}
for i = 4 + n, #ARGV, 2 do
  local new = redis.call('SADD', p .. ':keys:' .. ARGV[i], ARGV[i + 1])
  if new == 1 then redis.call('SADD', claims, ARGV[i] .. '\\t' .. ARGV[i + 1]) end
  out[#out + 1] = new
end
return out
"""
)

# KEYS: prefix; ARGV: token -> 'fed', 'feed' (the caller feeds) or 'wait'
TAKE_FEED = """
if redis.call('GET', KEYS[1] .. ':fed') then return 'fed' end
local f = redis.call('GET', KEYS[1] .. ':feeder')
if f == ARGV[1] then return 'feed' end
if f and redis.call('EXISTS', 'hfcrawl:proc:' .. f) == 1 then return 'wait' end
redis.call('SET', KEYS[1] .. ':feeder', ARGV[1])
return 'feed'
"""

# KEYS: prefix -> 1 when nothing is left anywhere: fed, no request queued, none
# leased, no dead worker left to take over (its logs hold rows)
FINISHED = """
local p = KEYS[1]
if not redis.call('GET', p .. ':fed') then return 0 end
if redis.call('LLEN', p .. ':requests') > 0 then return 0 end
local workers = redis.call('HGETALL', p .. ':workers')
for i = 1, #workers, 2 do
  if redis.call('LLEN', p .. ':leases:' .. workers[i]) > 0 then return 0 end
  if redis.call('EXISTS', 'hfcrawl:proc:' .. workers[i + 1]) == 0 then return 0 end
end
return 1
"""

# KEYS: prefix; ARGV: tag, token -> the epoch this worker is now at rest in
REST = (
    _OWNER
    + """
local p, tag = KEYS[1], ARGV[1]
if not owner(p, tag, ARGV[2]) then return redis.error_reply('lost') end
local epoch = redis.call('GET', p .. ':epoch') or '0'
redis.call('HSET', p .. ':rest', tag, epoch)
return tonumber(epoch)
"""
)

# KEYS: prefix; ARGV: tag, token -> the new epoch when the caller is to compute
# the next level (every worker alive and at rest in this epoch, nothing queued
# or leased, the feed done, the frontier not done), else 0. One script, so one
# worker wins each epoch; the others stay at rest in the old one until it has
# pushed the level.
ADVANCE = (
    _OWNER
    + """
local p, tag = KEYS[1], ARGV[1]
if not owner(p, tag, ARGV[2]) then return redis.error_reply('lost') end
if redis.call('GET', p .. ':frontier_done') then return 0 end
if not redis.call('GET', p .. ':fed') then return 0 end
if redis.call('LLEN', p .. ':requests') > 0 then return 0 end
local epoch = redis.call('GET', p .. ':epoch') or '0'
local workers = redis.call('HGETALL', p .. ':workers')
for i = 1, #workers, 2 do
  if redis.call('LLEN', p .. ':leases:' .. workers[i]) > 0 then return 0 end
  if redis.call('EXISTS', 'hfcrawl:proc:' .. workers[i + 1]) == 0 then return 0 end
  if redis.call('HGET', p .. ':rest', workers[i]) ~= epoch then return 0 end
end
return redis.call('INCR', p .. ':epoch')
"""
)

# KEYS: prefix; ARGV: tag, its dead token, the taker's token -> 1 taken
TAKE_OVER = """
local p = KEYS[1]
if redis.call('HGET', p .. ':workers', ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('EXISTS', 'hfcrawl:proc:' .. ARGV[2]) == 1 then return 0 end
redis.call('HSET', p .. ':workers', ARGV[1], ARGV[3])
return 1
"""

# KEYS: prefix; ARGV: tag, token -> workers left after this one
LEAVE = """
local p = KEYS[1]
if redis.call('HGET', p .. ':workers', ARGV[1]) == ARGV[2] then
  redis.call('HDEL', p .. ':workers', ARGV[1])
end
return redis.call('HLEN', p .. ':workers')
"""


class LostTag(RuntimeError):
    """This process no longer owns its worker tag: it was taken for dead."""


def key_text(key: tuple[Any, ...]) -> str:
    """A row key as a Redis member: the same for a row and for its Parquet copy."""
    return json.dumps(list(key), separators=(",", ":"), default=str)


class RedisRun:
    """This process's handle on a shared run: its worker tag and the scripts."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        folder: Path,
        options: PartOptions,
        ttl: float,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.folder = folder
        self.options = options
        self.ttl_ms = max(int(ttl * 1000), 1000)
        self.token = secrets.token_hex(8)
        self.tag = ""
        self._scripts = {
            name: redis.register_script(body)
            for name, body in {
                "heartbeat": HEARTBEAT,
                "pop": POP,
                "push": PUSH,
                "ack": ACK,
                "claim": CLAIM,
                "take_feed": TAKE_FEED,
                "finished": FINISHED,
                "take_over": TAKE_OVER,
                "leave": LEAVE,
                "rest": REST,
                "advance": ADVANCE,
            }.items()
        }
        self._written: list[str] = []  # claims of the last batch, now on disk
        # requests done, acknowledged with the next pop or poll: a worker
        # killed before that gives them back, and their rows are dropped as
        # duplicates when they are asked again
        self._acks: list[bytes] = []

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _run(self, name: str, *args: Any) -> Any:
        try:
            return self._scripts[name](keys=[self.prefix], args=list(args))
        except Exception as exc:
            if "lost" in str(exc):
                raise LostTag(f"worker {self.tag} was taken for dead") from exc
            raise

    # --- joining and leaving ------------------------------------------------
    def join(self) -> str:
        """Register this process; its tag (``w1``, ``w2``...)."""
        self.redis.set(PROC + self.token, self.prefix, px=self.ttl_ms)
        self.tag = f"w{self.redis.incr(self.key('seq'))}"
        self.redis.hset(self.key("workers"), self.tag, self.token)
        logger.info("joined the shared run %s as worker %s", self.prefix, self.tag)
        return self.tag

    def heartbeat(self) -> None:
        if not self._run("heartbeat", self.tag, self.token, self.ttl_ms):
            raise LostTag(f"worker {self.tag} was taken for dead")

    def leave(self, stats: dict[str, Any]) -> int:
        """Give back what this process holds, record its counters, and
        deregister; the number of workers still registered (0: the last)."""
        self.flush_acks()
        self.requeue(self.tag)
        self.redis.delete(self.key(f"claims:{self.tag}"))  # committed by now
        self.record_stats(stats)
        left = int(self._run("leave", self.tag, self.token))
        self.redis.delete(PROC + self.token)
        return left

    def record_stats(self, stats: dict[str, Any]) -> None:
        """This worker's counters, for the manifest (again, once it has left)."""
        self.redis.hset(self.key("stats"), self.tag, json.dumps(stats, default=str))

    def worker_stats(self) -> dict[str, Any]:
        raw = self.redis.hgetall(self.key("stats"))
        return {
            (k.decode() if isinstance(k, bytes) else k): json.loads(v)
            for k, v in raw.items()
        }

    # --- the queue ------------------------------------------------------------
    def push(self, fingerprint: str, data: bytes) -> bool:
        return bool(self._run("push", fingerprint, data))

    def pop(self, n: int = 1) -> list[bytes]:
        """Up to ``n`` requests moved from the queue to this worker's leases."""
        acks, self._acks = self._acks, []
        return list(self._run("pop", self.tag, self.token, n, *acks))

    def ack(self, data: bytes) -> None:
        self._acks.append(data)

    def flush_acks(self) -> None:
        if self._acks:
            acks, self._acks = self._acks, []
            self._run("ack", self.tag, self.token, *acks)

    def queued(self) -> int:
        return int(self.redis.llen(self.key("requests")))

    def requeue(self, tag: str) -> int:
        """Put a worker's leases back where the next pop takes them."""
        moved = 0
        leases, queue = self.key(f"leases:{tag}"), self.key("requests")
        # newest lease first onto the pop end: they come out in the order taken
        while self.redis.lmove(leases, queue, "LEFT", "RIGHT") is not None:
            moved += 1
        return moved

    # --- the feed -------------------------------------------------------------
    def take_feed(self) -> str:
        answer = self._run("take_feed", self.token)
        return answer.decode() if isinstance(answer, bytes) else str(answer)

    def fed(self) -> None:
        self.redis.set(self.key("fed"), "1")

    def finished(self) -> bool:
        self.flush_acks()
        return bool(self._run("finished"))

    # --- levels of a frontier (levels.py) --------------------------------------
    def rest(self) -> int:
        """Record this worker at rest (idle, its rows in complete parts) in the
        current epoch; the epoch."""
        return int(self._run("rest", self.tag, self.token))

    def advance(self) -> int:
        """The new epoch if this worker is to compute the next level, else 0."""
        return int(self._run("advance", self.tag, self.token))

    def taken(self, follow: str) -> set[str]:
        """The references of ``follow`` asked for so far in the run."""
        return {
            m.decode() if isinstance(m, bytes) else m
            for m in self.redis.smembers(self.key(f"taken:{follow}"))
        }

    def mark_taken(self, follow: str, refs: list[str]) -> None:
        key = self.key(f"taken:{follow}")
        for i in range(0, len(refs), 10_000):
            self.redis.sadd(key, *refs[i : i + 10_000])

    def frontier_done(self) -> bool:
        return bool(self.redis.exists(self.key("frontier_done")))

    def set_frontier_done(self) -> None:
        self.redis.set(self.key("frontier_done"), "1")

    # --- written keys -----------------------------------------------------------
    def claim(self, keys: list[tuple[str, str]]) -> list[bool]:
        """Claim row keys for this worker; True for each one it is to write.

        The keys claimed by the previous call are written by now (the caller
        writes right after claiming), so they leave this worker's claims."""
        written = self._written
        args: list[Any] = [self.tag, self.token, len(written), *written]
        for table, text in keys:
            args += [table, text]
        flags = self._run("claim", *args)
        self._written = []
        return [bool(f) for f in flags]

    def claimed_written(self, keys: list[tuple[str, str]]) -> None:
        self._written = [f"{table}\t{text}" for table, text in keys]

    def seed_keys(self) -> int:
        """Once per run: the keys of rows already in the run folder (a run
        folder begun without Redis, or Redis emptied) count as written."""
        if not self.redis.set(self.key("seeded"), "1", nx=True):
            return 0
        seeded = 0
        for table_dir in sorted(p for p in self.folder.iterdir() if p.is_dir()):
            try:
                spec = table_spec(row_class(table_dir.name))
            except KeyError:
                continue
            keys = _part_keys(finished_parts(table_dir), spec.key_fields)
            for i in range(0, len(keys), 10_000):
                self.redis.sadd(self.key(f"keys:{spec.table}"), *keys[i : i + 10_000])
            seeded += len(keys)
        return seeded

    # --- dead workers -------------------------------------------------------------
    def dead_workers(self) -> list[tuple[str, str]]:
        workers = self.redis.hgetall(self.key("workers"))
        dead = []
        for tag, token in workers.items():
            tag = tag.decode() if isinstance(tag, bytes) else tag
            token = token.decode() if isinstance(token, bytes) else token
            if tag != self.tag and not self.redis.exists(PROC + token):
                dead.append((tag, token))
        return dead

    def take_over_dead(self) -> list[str]:
        """Take over every dead worker (see the module's docstring)."""
        taken = []
        for tag, token in self.dead_workers():
            if not self._run("take_over", tag, token, self.token):
                continue  # another worker got there first
            self._take_over(tag)
            taken.append(tag)
        return taken

    def _take_over(self, tag: str) -> None:
        started = time.monotonic()
        recovered = RunFolder(self.folder, self.options, tag=tag).open()
        released = self._release_unwritten(tag)
        moved = self.requeue(tag)
        self._run("leave", tag, self.token)
        logger.warning(
            "took over dead worker %s: %s rows recovered from its logs, %d claimed"
            " keys without a row released, %d requests back in the queue (%.1f s)",
            tag,
            sum(recovered.values()),
            released,
            moved,
            time.monotonic() - started,
        )

    def _release_unwritten(self, tag: str) -> int:
        claims_key = self.key(f"claims:{tag}")
        members = [
            m.decode() if isinstance(m, bytes) else m
            for m in self.redis.smembers(claims_key)
        ]
        by_table: dict[str, list[str]] = {}
        for member in members:
            table, _, text = member.partition("\t")
            by_table.setdefault(table, []).append(text)
        released = 0
        for table, texts in by_table.items():
            spec = table_spec(row_class(table))
            parts = [
                p
                for p in finished_parts(self.folder / table)
                if (m := PART_RE.match(p.name)) and m.group("tag") == tag
            ]
            on_disk = set(_part_keys(parts, spec.key_fields))
            lost = [t for t in texts if t not in on_disk]
            if lost:
                self.redis.srem(self.key(f"keys:{table}"), *lost)
                released += len(lost)
        self.redis.delete(claims_key)
        return released


def _part_keys(parts: list[Path], fields: tuple[str, ...]) -> list[str]:
    keys: list[str] = []
    for part in parts:
        data = pq.read_table(part, columns=list(fields))
        columns = [data.column(f).to_pylist() for f in fields]
        keys += [key_text(k) for k in zip(*columns, strict=True) if None not in k]
    return keys
