-- Wrapper of every state-changing script (see switchboard_runtime/atomic.py).
--
-- 1. The store's generation: KEYS[#KEYS] is the tenant's generation marker and ARGV[#ARGV]
--    the generation the caller expects. If the marker is missing or different, the store
--    lost its state (e.g. a restart without persistence) and nothing is applied.
-- 2. All or nothing: Redis does not roll back a script that fails half-way, so every write
--    goes through call(), which first notes how to undo it. Should the script fail (a key
--    of the wrong type, a bug), the noted undos run in reverse and the error is returned.
--    A script that completed is never undone; one that failed leaves no trace.

local UNDO = {}

local function undo(...)
  UNDO[#UNDO + 1] = {...}
end

local READS = {}
for _, c in ipairs({'GET', 'HGET', 'HMGET', 'HGETALL', 'HEXISTS', 'HLEN', 'EXISTS', 'TYPE',
    'TTL', 'PTTL', 'ZRANGE', 'ZRANGEBYSCORE', 'ZSCORE', 'ZRANK', 'ZCARD', 'ZCOUNT',
    'SMEMBERS', 'SISMEMBER', 'SMISMEMBER', 'SCARD', 'LLEN', 'LRANGE', 'XLEN', 'XRANGE'}) do
  READS[c] = true
end

-- the fields of HSET key f v f v ... (every second argument after the key)
local function pairs_firsts(args, from)
  local out = {}
  for i = from, #args, 2 do out[#out + 1] = args[i] end
  return out
end

local function note_fields(key, fields)
  local old = redis.call('HMGET', key, unpack(fields))
  for i, f in ipairs(fields) do
    if old[i] then undo('HSET', key, f, old[i]) else undo('HDEL', key, f) end
  end
end

local function note_scores(key, members)
  for _, m in ipairs(members) do
    local old = redis.call('ZSCORE', key, m)
    if old then undo('ZADD', key, old, m) else undo('ZREM', key, m) end
  end
end

local function note_members(key, members, cmd)
  local was = redis.call('SMISMEMBER', key, unpack(members))
  for i, m in ipairs(members) do
    if cmd == 'SADD' and was[i] == 0 then undo('SREM', key, m) end
    if cmd == 'SREM' and was[i] == 1 then undo('SADD', key, m) end
  end
end

-- Anything else: the whole key as it was (only ever used on small keys).
local function note_key(key)
  local ttl = redis.call('PTTL', key)
  if ttl == -2 then undo('DEL', key); return end
  undo('RESTORE', key, ttl > 0 and ttl or 0, redis.call('DUMP', key), 'REPLACE')
end

local ZADD_FLAGS = {NX = true, XX = true, GT = true, LT = true, CH = true}

local function note(cmd, key, args)
  if cmd == 'HSET' then note_fields(key, pairs_firsts(args, 1))
  elseif cmd == 'HDEL' then note_fields(key, args)
  elseif cmd == 'HINCRBY' then note_fields(key, {args[1]})
  elseif cmd == 'ZREM' then note_scores(key, args)
  elseif cmd == 'ZADD' then
    local from = 1
    while ZADD_FLAGS[string.upper(args[from])] do from = from + 1 end
    note_scores(key, pairs_firsts(args, from + 1))
  elseif cmd == 'SADD' or cmd == 'SREM' then note_members(key, args, cmd)
  elseif cmd == 'XADD' then
    if redis.call('EXISTS', key) == 0 then undo('DEL', key) end
  else
    note_key(key)
  end
end

local function call(cmd, key, ...)
  if READS[cmd] then return redis.call(cmd, key, ...) end
  local args = {...}
  note(cmd, key, args)
  if cmd == 'DEL' then
    for _, other in ipairs(args) do note_key(other) end
  end
  local result = redis.call(cmd, key, ...)
  if cmd == 'XADD' then undo('XDEL', key, result) end
  return result
end

local GENERATION_KEY = KEYS[#KEYS]
local GENERATION = ARGV[#ARGV]
-- for ids handed out from counters: they must differ across generations
local GENERATION_SHORT = string.sub(string.match(GENERATION, ':(.*)$') or GENERATION, 1, 6)
if (redis.call('GET', GENERATION_KEY) or '') ~= GENERATION then
  return redis.error_reply('SB_STATE_LOST the store does not hold generation ' .. GENERATION)
end

local function rolled_back(err)
  for i = #UNDO, 1, -1 do pcall(redis.call, unpack(UNDO[i])) end
  local text = type(err) == 'table' and (err.err or cjson.encode(err)) or tostring(err)
  return redis.error_reply('SB_SCRIPT_FAILED ' .. text)
end
