"""The Hub's quota reading, shared by every process that crawls with one token.

The Hub counts per token (or per IP without one), so N workers on one token
share each bucket's window. ``RedisBucket`` is ``hfcrawl.ratelimit.Bucket``
with its state in a Redis hash, each step (ask, answer, failure) one Lua script
that does what the Python method does: the lowest ``r`` read in the window,
minus the requests in flight in *every* process (a count per process token,
dropped when that process's token expires), minus those answered without a
reading. So N processes see what one process with all their requests in flight
would see, and hold back the same way.

The key is the Hub host and a hash of the token, not the run: two runs on one
token share the quota too. Times are wall-clock in Redis (``time.time()``
offsets), so processes on several machines agree to within their clock skew.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from hfcrawl.hub import hub_token
from hfcrawl.ratelimit import _MIN_WAIT, Bucket, HubRateLimitMiddleware
from hfcrawl.scaleout.extension import shared

if TYPE_CHECKING:
    import time as _time  # noqa: F401

    from redis import Redis
    from scrapy.crawler import Crawler

# KEYS: state hash, in-flight hash; ARGV: op, token, now, then the op's values.
# ask -> 'go' (counted as sent), 'free' (the host keeps no quota), or seconds to
# wait ('-1': nothing known yet, look again soon); answered -> metered state
BUCKET = """
local st, inf = KEYS[1], KEYS[2]
local op, token, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local h = redis.call('HMGET', st, 'quota', 'window', 'reset_at', 'lowest', 'lost',
                     'metered', 'paused_until')
local quota, window = tonumber(h[1]), tonumber(h[2])
local reset_at, lowest = tonumber(h[3]) or 0, tonumber(h[4])
local lost, metered, paused = tonumber(h[5]) or 0, h[6], tonumber(h[7]) or 0

local function in_flight()
  local total, all = 0, redis.call('HGETALL', inf)
  for i = 1, #all, 2 do
    if redis.call('EXISTS', 'hfcrawl:proc:' .. all[i]) == 1 or all[i] == token then
      total = total + tonumber(all[i + 1])
    else
      redis.call('HDEL', inf, all[i])
    end
  end
  return total
end
local function sent() redis.call('HINCRBY', inf, token, 1) end
local function answered()
  if redis.call('HINCRBY', inf, token, -1) < 0 then redis.call('HSET', inf, token, 0) end
end
-- 17 digits: a float read back is the float written (tostring keeps 14)
local function num(value) return string.format('%.17g', value) end
local function put(name, value)
  if value == nil then redis.call('HDEL', st, name)
  else redis.call('HSET', st, name, num(value)) end
end
local function save()
  put('quota', quota); put('window', window); put('reset_at', reset_at)
  put('lowest', lowest); put('lost', lost); put('paused_until', paused)
  if metered then put('metered', metered) else put('metered', nil) end
end
local function read(remaining, reset_in)
  local e = now + reset_in
  local half = 1.0
  if window and window ~= 0 then half = window / 2 end
  if lowest == nil or reset_at == 0 or e > reset_at + half then
    reset_at, lowest, lost = e, remaining, 0
  elseif e >= reset_at - half then
    reset_at = math.min(reset_at, e)
    lowest = math.min(lowest, remaining)
  end
end

if op == 'ask' then
  local reserve, margin = tonumber(ARGV[4]), tonumber(ARGV[5])
  if now < paused then return num(paused - now) end
  if reset_at ~= 0 and now >= reset_at + margin then
    if window and window ~= 0 then
      local ended = 1 + math.floor((now - reset_at - margin) / window)
      reset_at = reset_at + ended * window
      lowest = quota
    else
      reset_at, lowest = 0, nil
    end
    lost = 0
    save()
  end
  if metered == '0' then return 'free' end
  local flying = in_flight()
  if lowest == nil then
    if flying == 0 then sent(); return 'go' end
    return '-1'
  end
  if lowest - flying - lost > reserve then sent(); return 'go' end
  if reset_at ~= 0 then return num(math.max(reset_at + margin - now, tonumber(ARGV[6]))) end
  return '-1'
elseif op == 'answered' then
  -- ARGV: has_reading, r, t, ok, sent
  local has_reading, ok, was_sent = ARGV[4] == '1', ARGV[7] == '1', ARGV[8] == '1'
  if was_sent then answered() end
  if has_reading then
    metered = '1'
    read(tonumber(ARGV[5]), tonumber(ARGV[6]))
  elseif not was_sent then
    return metered or ''
  elseif metered == '1' then
    lost = lost + 1
  elseif ok then
    metered = '0'
  end
  save()
  return metered or ''
elseif op == 'failed' then
  answered()
  if metered == '1' then lost = lost + 1; save() end
elseif op == 'policy' then
  quota, window = tonumber(ARGV[4]), tonumber(ARGV[5])
  save()
elseif op == 'pause' then
  paused = math.max(paused, tonumber(ARGV[4]))
  save()
end
return '0'
"""


class RedisBucket(Bucket):
    """A ``Bucket`` whose state is shared in Redis (see the module's docstring).

    ``offset`` turns this process's monotonic times into wall-clock ones."""

    def __init__(
        self, redis: Redis, key: str, token: str, offset: float, poll: float
    ) -> None:
        super().__init__()
        self._script = redis.register_script(BUCKET)
        self._keys = [key, f"{key}:inflight"]
        self._token = token
        self._offset = offset
        self._poll = poll
        # A host that answers without RateLimit headers keeps no quota: asking
        # Redis about it would cost two round trips a request for nothing, so
        # that answer is kept here until an answer with a reading comes. Its
        # requests are not counted in flight (as the local Bucket does not).
        self._unmetered = False
        self._counted = 0  # this process's requests the shared bucket counts

    def _call(self, op: str, now: float, *args: Any) -> str:
        answer = self._script(
            keys=self._keys, args=[op, self._token, now + self._offset, *args]
        )
        return answer.decode() if isinstance(answer, bytes) else str(answer)

    def ask(self, now: float, reserve: int, margin: float) -> float:
        if self._unmetered:
            return 0.0
        answer = self._call("ask", now, reserve, margin, _MIN_WAIT)
        if answer == "free":
            self._unmetered = True
            return 0.0
        if answer == "go":
            self._counted += 1
            return 0.0
        wait = float(answer)
        # -1: waiting for a first answer, which another process may get: look
        # again soon rather than for a local answer only
        return self._poll if wait < 0 else wait

    def answered(
        self,
        now: float,
        reading: tuple[int, int] | None,
        ok: bool,
        sent: bool = True,
    ) -> None:
        counted = self._counted
        if sent:
            self._counted = max(counted - 1, 0)
        if self._unmetered and reading is None and not (sent and counted):
            return  # what the shared state would do: nothing
        r, t = reading if reading is not None else (0, 0)
        metered = self._call(
            "answered", now, int(reading is not None), r, t, int(ok), int(sent)
        )
        self._unmetered = metered == "0"

    def failed(self) -> None:
        counted = self._counted
        self._counted = max(counted - 1, 0)
        if self._unmetered and not counted:
            return
        self._call("failed", 0.0)

    def set_policy(self, quota: int, window: float) -> None:
        self._call("policy", 0.0, quota, window)

    def pause(self, until: float) -> None:
        self._call("pause", 0.0, until + self._offset)


def quota_key(host: str, token: str | None) -> str:
    """The quota's key: the Hub host and who is counted (a token, else the IP)."""
    who = hashlib.sha256(f"{host}\n{token or ''}".encode()).hexdigest()[:16]
    return f"hfcrawl:quota:{who}"


class SharedRateLimitMiddleware(HubRateLimitMiddleware):
    """``HubRateLimitMiddleware`` with buckets shared in Redis."""

    def __init__(self, crawler: Crawler) -> None:
        import time

        super().__init__(crawler)
        settings = crawler.settings
        ext = shared(crawler, join=False)  # the token is enough
        token = (
            hub_token(settings)
            if settings.getbool("HFCRAWL_SEND_TOKEN", True)
            else None
        )
        self._redis = ext.run.redis
        self._token = ext.run.token
        self._prefix = quota_key(self.host, token)
        self._offset = time.time() - time.monotonic()
        self._poll = ext.poll

    def new_bucket(self, name: str) -> Bucket:
        return RedisBucket(
            self._redis,
            f"{self._prefix}:{name}",
            self._token,
            self._offset,
            self._poll,
        )
