-- Wrapper of every state-changing script (see switchboard_runtime/atomic.py and lua.py).
--
-- KEYS[1] is the tenant's hash tag (TAG): every key is built from it by the generated
-- key.<builder>(...) functions, so a script stays in one Redis Cluster slot. ARGV[1] is
-- the script's named arguments, a JSON object (A).
--
-- 1. The store's generation: KEYS[2] is the tenant's generation marker and ARGV[2] the
--    generation the caller expects. If the marker is missing or different, the store
--    lost its state (e.g. a restart without persistence) and nothing is applied.
-- 2. All or nothing: Redis does not roll back a script that fails half-way, so every write
--    goes through write(), which first notes how to undo it (reads use call()). Should
--    the script fail (a key of the wrong type, a bug), the noted undos run in reverse and
--    the error is returned. A script that completed is never undone; one that failed
--    leaves no trace, within these limits: a removal that empties a key with a TTL brings
--    the key back without it; an entry added to a stream and deleted again leaves the
--    stream's last-id and entries-added counters moved on (the outbox relay reads
--    neither); XADD may not trim. A body fails by raising (error(...), or a failing
--    call); an error it *returns* (redis.error_reply) is a completed script and undoes
--    nothing.

local TAG = KEYS[1]
local A = cjson.decode(ARGV[1])

local UNDO = {}

local function undo(...)
  UNDO[#UNDO + 1] = {...}
end

-- Reads. Every write goes through write(), below. A failing command raises its error
-- at the line that called call() (Redis alone would not say which line it was).
local function call(...)
  local result = redis.pcall(...)
  if type(result) == 'table' and result.err then error(result.err, 2) end
  return result
end

-- What is noted already: a later write to the same field or member needs no note of its
-- own (the undos run last first, so the first note restores the value from before the
-- script). FRESH: keys this script created, undone by deleting them.
local NOTED, WHOLE, FRESH = {}, {}, {}
local STREAMS = {}  -- streams appended to already (whether each existed is known)

-- kind: 'h' a hash field, 'z' a sorted-set member (a key may change type in one script)
local function first_note(key, kind, part)
  if FRESH[key] then return false end
  local id = kind .. #key .. ':' .. key .. part
  if NOTED[id] then return false end
  NOTED[id] = true
  return true
end

local function note_field(key, field)
  if not first_note(key, 'h', field) then return end
  local old = redis.call('HGET', key, field)
  if old then undo('HSET', key, field, old) else undo('HDEL', key, field) end
end

local function note_score(key, member)
  if not first_note(key, 'z', member) then return end
  local old = redis.call('ZSCORE', key, member)
  if old then undo('ZADD', key, old, member) else undo('ZREM', key, member) end
end

-- The whole key as it was (only for the rarer commands, on small keys).
local function note_key(key)
  if FRESH[key] or WHOLE[key] then return end
  WHOLE[key] = true
  local ttl = redis.call('PTTL', key)
  if ttl == -2 then undo('DEL', key); return end
  undo('RESTORE', key, ttl > 0 and ttl or 0, redis.call('DUMP', key), 'REPLACE')
end

-- HSET key f v f v ...: one HMGET for all the fields
local function note_fields(key, args)
  if FRESH[key] then return end
  if redis.call('EXISTS', key) == 0 then  -- a new hash: deleting it undoes every field
    undo('DEL', key)
    FRESH[key] = true
    return
  end
  for i = 1, #args, 2 do note_field(key, args[i]) end
end

local ZADD_FLAGS = {NX = true, XX = true, GT = true, LT = true, CH = true, INCR = true}

-- Note how to undo a write of several fields or members: args from `from` on, every
-- `step`-th one (HSET f v f v: step 2; ZADD s m s m: step 2 from the first member).
local function note_each(note_one, key, args, from, step)
  for i = from, #args, step do note_one(key, args[i]) end
end

local function note_members(key, cmd, args)
  local was = redis.call('SMISMEMBER', key, unpack(args))
  for i, m in ipairs(args) do
    if cmd == 'SADD' and was[i] == 0 then undo('SREM', key, m) end
    if cmd == 'SREM' and was[i] == 1 then undo('SADD', key, m) end
  end
end

local function note_many(cmd, key, args)
  if cmd == 'HSET' then note_fields(key, args)
  elseif cmd == 'HDEL' then note_each(note_field, key, args, 1, 1)
  elseif cmd == 'HINCRBY' then note_field(key, args[1])
  elseif cmd == 'ZREM' then note_each(note_score, key, args, 1, 1)
  elseif cmd == 'ZADD' then
    local from = 1
    while ZADD_FLAGS[string.upper(args[from])] do from = from + 1 end
    note_each(note_score, key, args, from + 1, 2)
  elseif cmd == 'SADD' or cmd == 'SREM' then note_members(key, cmd, args)
  elseif cmd == 'XADD' then
    local first = string.upper(tostring(args[1]))
    if first == 'MAXLEN' or first == 'MINID' then
      error('XADD with trimming cannot be undone: trim in a script of its own')
    end
    -- a stream this script created is undone by deleting it (each entry by XDEL,
    -- below); whether it existed is asked at its first XADD only
    if not FRESH[key] and not STREAMS[key] then
      STREAMS[key] = true
      if redis.call('EXISTS', key) == 0 then
        undo('DEL', key)
        FRESH[key] = true
      end
    end
  else
    note_key(key)
    if cmd == 'DEL' then
      for i = 1, #args do note_key(args[i]) end
    end
  end
end

-- A write, noted first. The common one-field and one-member forms skip building tables,
-- and a removal of what is not there is skipped altogether (it would change nothing).
local function noted_write(cmd, key, ...)
  local n, a, b = select('#', ...), ...
  if cmd == 'HSET' and n == 2 then note_field(key, a)
  elseif cmd == 'HINCRBY' then note_field(key, a)
  elseif cmd == 'ZADD' and n == 2 then note_score(key, b)
  elseif cmd == 'ZREM' and n == 1 then
    local old = redis.call('ZSCORE', key, a)
    if not old then return 0 end
    undo('ZADD', key, old, a)
  elseif cmd == 'HDEL' and n == 1 then
    local old = redis.call('HGET', key, a)
    if not old then return 0 end
    undo('HSET', key, a, old)
  elseif (cmd == 'SADD' or cmd == 'SREM') and n == 1 then
    local member = redis.call('SISMEMBER', key, a)
    if (cmd == 'SADD') == (member == 1) then return 0 end
    undo(cmd == 'SADD' and 'SREM' or 'SADD', key, a)
  elseif cmd == 'INCR' then
    local old = redis.call('GET', key)
    if old then undo('SET', key, old, 'KEEPTTL') else undo('DEL', key) end
  else
    note_many(cmd, key, {...})
  end
  local result = redis.call(cmd, key, ...)
  if cmd == 'XADD' then undo('XDEL', key, result) end
  return result
end

-- A write; a failing one raises its error at the line that called write().
local function write(...)
  local ok, result = pcall(noted_write, ...)
  if ok then return result end
  error(type(result) == 'table' and result.err or result, 2)
end

local GENERATION_KEY = KEYS[2]
local GENERATION = ARGV[2]
-- for ids handed out from counters: they must differ across generations
local GENERATION_SHORT = string.sub(string.match(GENERATION, ':(.*)$') or GENERATION, 1, 6)
if (redis.call('GET', GENERATION_KEY) or '') ~= GENERATION then
  return redis.error_reply('SB_STATE_LOST the store does not hold generation ' .. GENERATION)
end

local function rolled_back(err)
  local failed = 0
  for i = #UNDO, 1, -1 do
    if not pcall(redis.call, unpack(UNDO[i])) then failed = failed + 1 end
  end
  local text = type(err) == 'table' and (err.err or cjson.encode(err)) or tostring(err)
  if failed > 0 then text = text .. ' (and ' .. failed .. ' undo steps failed)' end
  return redis.error_reply('SB_SCRIPT_FAILED ' .. text)
end
