-- Apply one batch of metric deltas atomically and at most once (per writer and number).
-- KEYS[1]: key prefix. ARGV[1]: the batch as JSON (see perfsuite/core/stores/redis.py).
local p = KEYS[1]
local batch = cjson.decode(ARGV[1])
local applied = p .. ':applied:' .. batch.writer
if tonumber(redis.call('GET', applied) or '0') >= batch.seq then
  return 0
end
redis.call('SET', applied, batch.seq, 'EX', 86400)
for sid, desc in pairs(batch.series) do
  redis.call('HSETNX', p .. ':series', sid, desc)
end
local function apply(key, deltas, ttl)
  for sid, v in pairs(deltas.c) do
    redis.call('HINCRBYFLOAT', key, sid .. '|c', v)
  end
  for sid, h in pairs(deltas.h) do
    redis.call('HINCRBY', key, sid .. '|n', h.n)
    redis.call('HINCRBYFLOAT', key, sid .. '|s', h.s)
    local lo = redis.call('HGET', key, sid .. '|lo')
    if (not lo) or tonumber(lo) > tonumber(h.lo) then
      redis.call('HSET', key, sid .. '|lo', h.lo)
    end
    local hi = redis.call('HGET', key, sid .. '|hi')
    if (not hi) or tonumber(hi) < tonumber(h.hi) then
      redis.call('HSET', key, sid .. '|hi', h.hi)
    end
    for field, n in pairs(h.b) do
      redis.call('HINCRBY', key, sid .. '|' .. field, n)
    end
  end
  if ttl then
    redis.call('EXPIRE', key, ttl)
  end
end
for _, chunk in ipairs(batch.chunks) do
  local minute = chunk[1]
  apply(p .. ':t', chunk[2], nil)
  apply(p .. ':m:' .. minute, chunk[2], batch.ttl)
  apply(p .. ':h:' .. math.floor(minute / 60), chunk[2], batch.ttl + 3600)
end
for field, value in pairs(batch.gauges) do
  redis.call('HSET', p .. ':g', field, value)
end
for _, name in ipairs({':series', ':t', ':g', ':meta'}) do
  if redis.call('EXISTS', p .. name) == 1 then
    redis.call('EXPIRE', p .. name, batch.keep)
  end
end
return 1
