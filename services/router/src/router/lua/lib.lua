-- Shared prelude of every router script (see switchboard_runtime/lua.py for the
-- convention: TAG, named arguments A, key.<builder>, call and write).
--
-- Every call's named arguments carry, besides the operation's own:
--   now          epoch milliseconds (the caller's injectable clock)
--   nonce        unique per call; event ids are nonce-1, nonce-2, ...
--   tenant       the tenant id;  correlation_id  ('' for none)
--   offer_ms, wrapup_ms         the offer and wrap-up timeouts
--   scan_items, scan_agents     items and agents scanned per queue
--   retention_s  how long a closed item's router record is kept

local NOW = A.now
local NONCE = A.nonce
local TENANT = A.tenant
local CORRELATION = A.correlation_id
local OFFER_MS = A.offer_ms
local WRAPUP_MS = A.wrapup_ms
local SCAN_ITEMS = A.scan_items
local SCAN_AGENTS = A.scan_agents
local RETAIN_CLOSED_S = A.retention_s

local OUTBOX = key.outbox('router')
-- An agent's deadlines live in the set of its partition of agent.commands (the agent
-- hash's 'part', given by agent.status), where its answers arrive: only the replica
-- owning that partition fires them, once it has applied every command sent before them
-- (switchboard_runtime.watermarks). Agents without a known partition (not seen since
-- routers before 2026-12-01) keep the single set, fired as it always was.
-- An item remembers the partition of its current deadline in its 'dpart' field.
local function deadlines_of(part)
  if part and part ~= '' then return key.deadlines_of(part) end
  return key.deadlines()
end

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

-- An event about an item carries the correlation id the item was created with (field
-- corr of its hash), so one id follows the item through every service; an event about
-- no item (or an item created without one) carries the caller's.
local ITEM_CORRELATION = {}

local function correlation_of(wid)
  if not wid then return CORRELATION end
  local found = ITEM_CORRELATION[wid]
  if found == nil then
    found = call('HGET', key.router_item(wid), 'corr') or false
    ITEM_CORRELATION[wid] = found
  end
  return found or CORRELATION
end

local function emit(topic, key, ce_type, subject, data)
  SEQ = SEQ + 1
  local event = {specversion = '1.0', id = NONCE .. '-' .. SEQ, source = 'switchboard/router',
    type = ce_type, time = NOW_ISO, datacontenttype = 'application/json', tenantid = TENANT,
    subject = subject, data = data}
  local correlation = correlation_of(subject)
  if correlation ~= '' then event.correlationid = correlation end
  outbox_add(OUTBOX, topic, key, cjson.encode(event), ce_type)
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
  local f = call('HMGET', key.agent(id), 'status', 'cap_voice', 'cap_chat', 'cap_async',
    'used_voice', 'used_chat', 'used_async', 'part', 'last_offer')
  a = {status = f[1], cap = {}, used = {}, part = f[8] or '', last_offer = f[9] or nil}
  for i, kind in ipairs(KINDS) do
    a.cap[kind] = tonumber(f[1 + i]) or 0
    a.used[kind] = tonumber(f[4 + i]) or 0
  end
  AGENTS[id] = a
  return a
end

-- After writing an agent's fields directly: the next agent_state reads them again.
local function forget_agent(id)
  AGENTS[id] = nil
end

-- the agent's partition of agent.commands ('' when unknown), read with its state
local function agent_part(agent)
  return agent_state(agent).part
end

local function use_slot(agent, kind, delta)
  local a = agent_state(agent)  -- read (and cache) before the change, then apply to both
  write('HINCRBY', key.agent(agent), 'used_' .. kind, delta)
  a.used[kind] = a.used[kind] + delta
end

local function has_skills(id, a, skills)
  if #skills == 0 then return true end
  if not a.skills then
    a.skills = {}
    for _, s in ipairs(call('SMEMBERS', key.agent_skills(id))) do a.skills[s] = true end
  end
  for _, s in ipairs(skills) do
    if not a.skills[s] then return false end
  end
  return true
end

-- Available agents of a queue with a free slot of one kind (its 'qa' sorted set per
-- kind, longest idle first), read lazily in growing chunks and cached for this call.
-- Invariant: QUEUE_AGENTS[q|kind].ids is exactly the first #ids members of the set, so
-- reading on starts at index #ids; `complete` says the whole set is read. Every change
-- to a 'qa' set goes through qa_remove / qa_put.
local QUEUE_AGENTS = {}
local FIRST_CHUNK = 8

-- The i-th (1-based) agent of `queue` with room for `kind`, or nil past the end or
-- SCAN_AGENTS.
local function queue_agent(queue, kind, i)
  if i > SCAN_AGENTS then return nil end
  local c = QUEUE_AGENTS[queue .. '|' .. kind]
  if not c then
    c = {ids = {}, complete = false}
    QUEUE_AGENTS[queue .. '|' .. kind] = c
  end
  if i > #c.ids and not c.complete then
    local from = #c.ids
    local want = math.min(math.max(FIRST_CHUNK, from), SCAN_AGENTS - from)
    local got = call('ZRANGE', key.queue_agents(queue, kind), from, from + want - 1)
    for _, id in ipairs(got) do c.ids[#c.ids + 1] = id end
    if #got < want then c.complete = true end
  end
  return c.ids[i]
end

local function qa_uncache(queue, kind, agent)
  local c = QUEUE_AGENTS[queue .. '|' .. kind]
  if not c then return end
  for i, id in ipairs(c.ids) do
    if id == agent then table.remove(c.ids, i); return end
  end
end

local function qa_remove(queue, kind, agent)
  write('ZREM', key.queue_agents(queue, kind), agent)
  qa_uncache(queue, kind, agent)
end

-- The agent's new place is not looked up (a ZRANK per kind and queue): the cache is
-- emptied instead, and read again only if this call asks for that set again.
local function qa_put(queue, kind, agent, score)
  write('ZADD', key.queue_agents(queue, kind), score, agent)
  QUEUE_AGENTS[queue .. '|' .. kind] = nil
end

local function qa_remove_all(queue, agent)
  for _, kind in ipairs(KINDS) do qa_remove(queue, kind, agent) end
end

-- An agent is in its queues' available set of a kind exactly while it is available and
-- has a free slot of that kind (scored by when it was last offered work), so routing
-- never wades through busy agents.
local function sync_agent(agent)
  local a = agent_state(agent)
  local score = a.last_offer or NOW
  for _, q in ipairs(call('SMEMBERS', key.agent_queues(agent))) do
    for _, kind in ipairs(KINDS) do
      if a.status == 'available' and a.used[kind] < a.cap[kind] then
        qa_put(q, kind, agent, score)
      else
        qa_remove(q, kind, agent)
      end
    end
  end
end

-- An agent's status and why (an away reason, or none), counted per status for the gauges
-- (every status change goes here).
local function set_status(agent, status, reason)
  if reason then
    write('HSET', key.agent(agent), 'reason', reason)
  else
    write('HDEL', key.agent(agent), 'reason')
  end
  local was = call('HGET', key.agent(agent), 'status')
  if was == status then return end
  write('HSET', key.agent(agent), 'status', status)
  if was then write('HINCRBY', key.agents_by_status(), was, -1) end
  write('HINCRBY', key.agents_by_status(), status, 1)
  if AGENTS[agent] then AGENTS[agent].status = status end
end

local function mark_offered(agent)
  write('HSET', key.agent(agent), 'last_offer', NOW)
  agent_state(agent).last_offer = NOW
  sync_agent(agent)
end
