-- Shared prelude of every router script. Pasted in front of each script body.
--
-- KEYS[1]  the tenant hash tag, e.g. "{sb:default}"; every key below is built from it,
--          so a script touches one Redis Cluster slot (see switchboard_runtime.redis_keys).
-- ARGV[1]  now, epoch milliseconds (the caller's injectable clock)
-- ARGV[2]  nonce: unique per call; event ids are nonce-1, nonce-2, ...
-- ARGV[3]  tenant id;  ARGV[4] correlation id ('' for none)
-- ARGV[5]  offer timeout ms;  ARGV[6] wrap-up timeout ms
-- ARGV[7]  items scanned per queue;  ARGV[8] agents scanned per queue
-- ARGV[9]  the operation's own arguments, a JSON object

local TAG = KEYS[1]
local NOW = tonumber(ARGV[1])
local NONCE = ARGV[2]
local TENANT = ARGV[3]
local CORRELATION = ARGV[4]
local OFFER_MS = tonumber(ARGV[5])
local WRAPUP_MS = tonumber(ARGV[6])
local SCAN_ITEMS = tonumber(ARGV[7])
local SCAN_AGENTS = tonumber(ARGV[8])
local A = cjson.decode(ARGV[9])

local function k(...)
  return TAG .. ':' .. table.concat({...}, ':')
end

local OUTBOX = k('outbox', 'router')
local DEADLINES = k('deadlines')
local RETAIN_CLOSED_S = 7 * 24 * 3600

local function iso(ms)
  local secs = math.floor(ms / 1000)
  local milli = ms - secs * 1000
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
    math.floor(rem / 3600), math.floor((rem % 3600) / 60), rem % 60, milli)
end

local NOW_ISO = iso(NOW)
local SEQ = 0

local function emit(topic, key, ce_type, subject, data)
  SEQ = SEQ + 1
  local event = {specversion = '1.0', id = NONCE .. '-' .. SEQ, source = 'switchboard/router',
    type = ce_type, time = NOW_ISO, datacontenttype = 'application/json', tenantid = TENANT,
    subject = subject, data = data}
  if CORRELATION ~= '' then event.correlationid = CORRELATION end
  redis.call('XADD', OUTBOX, '*', 't', topic, 'k', key, 'v', cjson.encode(event))
end

local function agent_event(agent, ce_type, wid, data)
  data.agent_id = agent
  emit('agent.events', agent, ce_type, wid, data)
end

local function item_event(wid, ce_type, data)
  data.work_item_id = wid
  emit('workitem.events', wid, ce_type, wid, data)
end

-- Agents seen by this script call, cached: {status, cap = {kind = n}, used = {kind = n}}
local AGENTS = {}
local KINDS = {'voice', 'chat', 'async'}

local function agent_state(id)
  local a = AGENTS[id]
  if a then return a end
  local f = redis.call('HMGET', k('ag', id), 'status', 'cap_voice', 'cap_chat', 'cap_async',
    'used_voice', 'used_chat', 'used_async')
  a = {status = f[1], cap = {}, used = {}}
  for i, kind in ipairs(KINDS) do
    a.cap[kind] = tonumber(f[1 + i]) or 0
    a.used[kind] = tonumber(f[4 + i]) or 0
  end
  AGENTS[id] = a
  return a
end

local function use_slot(agent, kind, delta)
  local a = agent_state(agent)  -- read (and cache) before the change, then apply to both
  redis.call('HINCRBY', k('ag', agent), 'used_' .. kind, delta)
  a.used[kind] = a.used[kind] + delta
end

local function has_skills(id, a, skills)
  if #skills == 0 then return true end
  if not a.skills then
    a.skills = {}
    for _, s in ipairs(redis.call('SMEMBERS', k('ag', id, 'skills'))) do a.skills[s] = true end
  end
  for _, s in ipairs(skills) do
    if not a.skills[s] then return false end
  end
  return true
end

-- Available agents of a queue, longest idle first; cached and kept in order as we offer.
local QUEUE_AGENTS = {}

local function queue_agents(queue)
  local list = QUEUE_AGENTS[queue]
  if not list then
    list = redis.call('ZRANGE', k('qa', queue), 0, SCAN_AGENTS - 1)
    QUEUE_AGENTS[queue] = list
  end
  return list
end

local function has_free_slot(a)
  for _, kind in ipairs(KINDS) do
    if a.used[kind] < a.cap[kind] then return true end
  end
  return false
end

-- An agent is in its queues' available sets exactly while it is available and has a
-- free slot (scored by when it was last offered work), so routing never wades through
-- busy agents; the cached lists follow.
local function sync_agent(agent)
  local a = agent_state(agent)
  local wanted = a.status == 'available' and has_free_slot(a)
  local score = redis.call('HGET', k('ag', agent), 'last_offer') or NOW
  for _, q in ipairs(redis.call('SMEMBERS', k('ag', agent, 'queues'))) do
    local list = QUEUE_AGENTS[q]
    if list then
      for i, id in ipairs(list) do
        if id == agent then table.remove(list, i); break end
      end
    end
    if wanted then
      redis.call('ZADD', k('qa', q), score, agent)
      if list then table.insert(list, agent) end
    else
      redis.call('ZREM', k('qa', q), agent)
    end
  end
end

local function mark_offered(agent)
  redis.call('HSET', k('ag', agent), 'last_offer', NOW)
  sync_agent(agent)
end

local function load_of(id)
  local a = agent_state(id)
  local used, cap = 0, 0
  for _, kind in ipairs(KINDS) do used = used + a.used[kind]; cap = cap + a.cap[kind] end
  if cap == 0 then return 1 end
  return used / cap
end

local function choose(queue, strategy, eligible)
  if strategy == 'least_busy' then
    local best, best_load = nil, nil
    for _, id in ipairs(eligible) do
      local load = load_of(id)
      if best == nil or load < best_load then best, best_load = id, load end
    end
    return best
  end
  if strategy == 'round_robin' then
    local last = redis.call('GET', k('rr', queue)) or ''
    local sorted = {}
    for i, id in ipairs(eligible) do sorted[i] = id end
    table.sort(sorted)
    local chosen = sorted[1]
    for _, id in ipairs(sorted) do
      if id > last then chosen = id; break end
    end
    redis.call('SET', k('rr', queue), chosen)
    return chosen
  end
  return eligible[1]
end

local STRATEGIES = {}

local function strategy_of(queue)
  local strategy = STRATEGIES[queue]
  if not strategy then
    strategy = redis.call('HGET', k('queue-config'), queue) or 'longest_idle'
    STRATEGIES[queue] = strategy
  end
  return strategy
end

-- The agent to offer `wid` to. An agent that rejected the item is only a fallback,
-- used (when `fallback_ok`) if no other eligible agent has capacity.
-- Also returns whether any agent had a free slot of this kind, and of any kind, so the
-- caller can stop looking at items nobody can take.
local function pick_agent(wid, queue, kind, skills, fallback_ok)
  local strategy = strategy_of(queue)
  local rejected = k('ri', wid, 'rejected')
  local check_rejected = redis.call('EXISTS', rejected) == 1
  local eligible, fallback = {}, nil
  local kind_free, any_free = false, false
  for _, id in ipairs(queue_agents(queue)) do
    local a = agent_state(id)
    if a.status == 'available' then
      if a.used[kind] < a.cap[kind] then
        kind_free, any_free = true, true
        if has_skills(id, a, skills) then
          if check_rejected and redis.call('SISMEMBER', rejected, id) == 1 then
            fallback = fallback or id
          else
            if strategy == 'longest_idle' then return id, true, true end
            table.insert(eligible, id)
          end
        end
      elseif not any_free then
        for _, other in ipairs(KINDS) do
          if a.used[other] < a.cap[other] then any_free = true end
        end
      end
    end
  end
  if #eligible == 0 then
    if fallback_ok then return fallback, kind_free, any_free end
    return nil, kind_free, any_free
  end
  return choose(queue, strategy, eligible), true, true
end

local function offer(wid, agent)
  local ikey = k('ri', wid)
  local f = redis.call('HMGET', ikey, 'queue', 'kind', 'summary', 'outbound')
  local offer_id = 'of-' .. redis.call('INCR', k('offer-seq'))
  local expires = NOW + OFFER_MS
  redis.call('ZREM', k('q', f[1]), wid)
  redis.call('HSET', ikey, 'status', 'offered', 'offer_id', offer_id, 'agent', agent,
    'offer_expires', expires)
  use_slot(agent, f[2], 1)
  mark_offered(agent)
  redis.call('SADD', k('ag', agent, 'items'), wid)
  redis.call('ZADD', DEADLINES, expires, 'o|' .. offer_id .. '|' .. wid)
  local outbound = f[4] == '1'
  local actions = outbound and {'dial', 'skip'} or {'accept', 'reject'}
  agent_event(agent, 'offer.made', wid, {offer_id = offer_id, work_item_id = wid,
    expires_at = iso(expires), outbound = outbound, actions = actions,
    item = cjson.decode(f[3])})
  item_event(wid, 'workitem.offered', {offer_id = offer_id, agent_id = agent,
    expires_at = iso(expires), outbound = outbound})
end

-- Offer the best waiting items of `queues` (priority, then age) to eligible agents.
local function route(queues)
  local candidates, seen = {}, {}
  for _, q in ipairs(queues) do
    if not seen[q] then
      seen[q] = true
      if redis.call('ZCARD', k('qa', q)) > 0 then
        local r = redis.call('ZRANGE', k('q', q), 0, SCAN_ITEMS - 1, 'WITHSCORES')
        for i = 1, #r, 2 do table.insert(candidates, {r[i], tonumber(r[i + 1]), q}) end
      end
    end
  end
  table.sort(candidates, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[1] < y[1]
  end)
  -- Pass 1 matches items with agents who did not reject them; pass 2 lets a rejected
  -- item go back to an agent who rejected it, once nobody else can take it and the
  -- agent has nothing else to do.
  local made = 0
  local no_slot_in_queue, no_slot_for_kind = {}, {}
  for pass = 1, 2 do
    for _, c in ipairs(candidates) do
      local wid, queue = c[1], c[3]
      if not c.offered and not no_slot_in_queue[queue] then
        local f = redis.call('HMGET', k('ri', wid), 'kind', 'skills')
        if not no_slot_for_kind[queue .. '|' .. f[1]] then
          local agent, kind_free, any_free = pick_agent(wid, queue, f[1], cjson.decode(f[2]),
            pass == 2)
          if agent then
            offer(wid, agent)
            c.offered = true
            made = made + 1
          else
            if not kind_free then no_slot_for_kind[queue .. '|' .. f[1]] = true end
            if not any_free then no_slot_in_queue[queue] = true end
          end
        end
      end
    end
  end
  return made
end

local function agent_queues(agent)
  return redis.call('SMEMBERS', k('ag', agent, 'queues'))
end

-- Take the item back from the agent it is offered to; it keeps its place in line.
local function withdraw_offer(wid, item)
  use_slot(item.agent, item.kind, -1)
  sync_agent(item.agent)
  redis.call('SREM', k('ag', item.agent, 'items'), wid)
  redis.call('ZREM', DEADLINES, 'o|' .. item.offer_id .. '|' .. wid)
  redis.call('HSET', k('ri', wid), 'status', 'queued')
  redis.call('HDEL', k('ri', wid), 'offer_id', 'agent', 'offer_expires')
  redis.call('ZADD', k('q', item.queue), item.score, wid)
end

-- Close an item the agent holds (completed or cancelled) and free its slot.
local function close_item(wid, item, status)
  if item.agent then
    use_slot(item.agent, item.kind, -1)
    sync_agent(item.agent)
    redis.call('SREM', k('ag', item.agent, 'items'), wid)
  end
  redis.call('ZREM', DEADLINES, 'w|' .. wid)
  redis.call('HSET', k('ri', wid), 'status', status, 'closed_at', NOW)
  redis.call('EXPIRE', k('ri', wid), RETAIN_CLOSED_S)
  redis.call('DEL', k('ri', wid, 'rejected'))
end

local function load_item(wid)
  local f = redis.call('HMGET', k('ri', wid), 'status', 'agent', 'offer_id', 'kind', 'queue',
    'score', 'outbound', 'offer_expires', 'priority', 'parked')
  if not f[1] then return nil end
  return {status = f[1], agent = f[2] or nil, offer_id = f[3] or nil, kind = f[4],
    queue = f[5], score = tonumber(f[6]), outbound = f[7] == '1',
    offer_expires = tonumber(f[8]), priority = tonumber(f[9]), parked = f[10] == '1'}
end

local function set_away(agent, reason)
  redis.call('HSET', k('ag', agent), 'status', 'away')
  for _, q in ipairs(agent_queues(agent)) do redis.call('ZREM', k('qa', q), agent) end
  if AGENTS[agent] then AGENTS[agent].status = 'away' end
  agent_event(agent, 'agent.status_changed', nil, {status = 'away', reason = reason})
end

-- Commands carry `seen` (their CloudEvents source and id): a replay changes nothing.
local function seen_before()
  if not A.seen then return false end
  return redis.call('SET', k('seen', 'router', A.seen), '1', 'NX', 'EX', A.seen_ttl) == false
end
