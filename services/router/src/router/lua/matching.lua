-- Second part of the shared prelude (after lib.lua): matching items with agents, and
-- the item moves every script shares (offer, withdraw, close).

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
    local last = call('GET', key.round_robin(queue)) or ''
    local sorted = {}
    for i, id in ipairs(eligible) do sorted[i] = id end
    table.sort(sorted)
    local chosen = sorted[1]
    for _, id in ipairs(sorted) do
      if id > last then chosen = id; break end
    end
    write('SET', key.round_robin(queue), chosen)
    return chosen
  end
  return eligible[1]
end

local STRATEGIES = {}
-- skills of items this call wrote itself (read from the item's hash otherwise)
local KNOWN_SKILLS = {}

local function strategy_of(queue)
  local strategy = STRATEGIES[queue]
  if not strategy then
    strategy = call('HGET', key.queue_config(), queue) or 'longest_idle'
    STRATEGIES[queue] = strategy
  end
  return strategy
end

-- The agent to offer `wid` to. An agent that rejected the item is only a fallback,
-- used (when `fallback_ok`) if no other eligible agent has capacity.
-- Also returns whether any agent had a free slot of this kind (so the caller can stop
-- looking at items of this kind) and, when no agent was found, whether one that rejected
-- the item could have taken it.
local function pick_agent(wid, queue, kind, skills, fallback_ok)
  local strategy = strategy_of(queue)
  local rejected = key.item_rejected_by(wid)
  local check_rejected = call('EXISTS', rejected) == 1
  local eligible, fallback = {}, nil
  local kind_free = false
  local i = 0
  while true do
    i = i + 1
    local id = queue_agent(queue, kind, i)
    if not id then break end
    local a = agent_state(id)
    if a.status == 'available' and a.used[kind] < a.cap[kind] then
      kind_free = true
      if has_skills(id, a, skills) then
        if check_rejected and call('SISMEMBER', rejected, id) == 1 then
          fallback = fallback or id
        else
          if strategy == 'longest_idle' then return id, true end
          table.insert(eligible, id)
        end
      end
    end
  end
  if #eligible == 0 then
    if fallback_ok then return fallback, kind_free end
    return nil, kind_free, fallback ~= nil
  end
  return choose(queue, strategy, eligible), true
end

local function offer(wid, agent)
  local ikey = key.router_item(wid)
  local f = call('HMGET', ikey, 'queue', 'kind', 'summary', 'outbound')
  -- the generation in the id: a store that lost its state restarts the counter
  local offer_id = 'of-' .. GENERATION_SHORT .. '-' .. write('INCR', key.offer_sequence())
  local expires = NOW + OFFER_MS
  local part = agent_part(agent)
  write('ZREM', key.queue(f[1], f[2]), wid)
  write('HSET', ikey, 'status', 'offered', 'offer_id', offer_id, 'agent', agent,
    'offer_expires', expires, 'dpart', part)
  use_slot(agent, f[2], 1)
  mark_offered(agent)
  write('SADD', key.agent_items(agent), wid)
  write('ZADD', deadlines_of(part), expires, 'o|' .. offer_id .. '|' .. wid)
  local outbound = f[4] == '1'
  local actions = outbound and {'dial', 'skip'} or {'accept', 'reject'}
  agent_event(agent, 'offer.made', wid, {offer_id = offer_id, work_item_id = wid,
    expires_at = iso(expires), outbound = outbound, actions = actions,
    item = cjson.decode(f[3])})
  item_event(wid, 'workitem.offered', {offer_id = offer_id, agent_id = agent,
    expires_at = iso(expires), outbound = outbound})
end

-- Whether an available agent of `queue` has a free slot of `kind`.
local function room_for(queue, kind)
  return queue_agent(queue, kind, 1) ~= nil
end

-- The first SCAN_ITEMS waiting items of each (queue, kind) somebody has room for, in
-- priority-then-age order: {wid, score, queue, kind = kind}. `kinds`: those kinds only.
local function candidates_of(queues, kinds)
  local candidates, seen, sets = {}, {}, 0
  for _, q in ipairs(queues) do
    if not seen[q] then
      seen[q] = true
      for _, kind in ipairs(kinds) do
        if room_for(q, kind) then
          local r = call('ZRANGE', key.queue(q, kind), 0, SCAN_ITEMS - 1, 'WITHSCORES')
          for i = 1, #r, 2 do
            candidates[#candidates + 1] = {r[i], tonumber(r[i + 1]), q, kind = kind}
          end
          if #r > 0 then sets = sets + 1 end
        end
      end
    end
  end
  -- one set's range is already in this order (equal scores sort by member in Redis too)
  if sets > 1 then
    table.sort(candidates, function(x, y)
      if x[2] ~= y[2] then return x[2] < y[2] end
      return x[1] < y[1]
    end)
  end
  return candidates
end

-- Offer the best waiting items of `queues` (priority, then age) to eligible agents;
-- `kinds` (default: every kind) limits it to items of those kinds.
local function route(queues, kinds)
  local candidates = candidates_of(queues, kinds or KINDS)
  -- Pass 1 matches items with agents who did not reject them; pass 2 lets a rejected
  -- item go back to an agent who rejected it, once nobody else can take it and the
  -- agent has nothing else to do.
  local made, wants_fallback = 0, false
  local no_slot_for_kind = {}
  for pass = 1, 2 do
    if pass == 2 and not wants_fallback then break end
    for _, c in ipairs(candidates) do
      local wid, queue, kind = c[1], c[3], c.kind
      if not c.offered and not no_slot_for_kind[queue .. '|' .. kind] then
        c.skills = c.skills or KNOWN_SKILLS[wid]
          or cjson.decode(call('HGET', key.router_item(wid), 'skills'))
        local agent, kind_free, rejected_only = pick_agent(wid, queue, kind, c.skills,
          pass == 2)
        if agent then
          offer(wid, agent)
          c.offered = true
          made = made + 1
        else
          if rejected_only then wants_fallback = true end
          if not kind_free then no_slot_for_kind[queue .. '|' .. kind] = true end
        end
      end
    end
  end
  return made
end

local function agent_queues(agent)
  return call('SMEMBERS', key.agent_queues(agent))
end

-- Take the item back from the agent it is offered to; it keeps its place in line.
local function withdraw_offer(wid, item)
  use_slot(item.agent, item.kind, -1)
  sync_agent(item.agent)
  write('SREM', key.agent_items(item.agent), wid)
  write('ZREM', deadlines_of(item.dpart), 'o|' .. item.offer_id .. '|' .. wid)
  write('HSET', key.router_item(wid), 'status', 'queued')
  write('HDEL', key.router_item(wid), 'offer_id', 'agent', 'offer_expires', 'dpart')
  write('ZADD', key.queue(item.queue, item.kind), item.score, wid)
end

-- Close an item the agent holds (completed or cancelled) and free its slot.
local function close_item(wid, item, status)
  if item.agent then
    use_slot(item.agent, item.kind, -1)
    sync_agent(item.agent)
    write('SREM', key.agent_items(item.agent), wid)
  end
  write('ZREM', deadlines_of(item.dpart), 'w|' .. wid)
  write('HSET', key.router_item(wid), 'status', status, 'closed_at', NOW)
  write('EXPIRE', key.router_item(wid), RETAIN_CLOSED_S)
  write('DEL', key.item_rejected_by(wid))
end

local function load_item(wid)
  local f = call('HMGET', key.router_item(wid), 'status', 'agent', 'offer_id', 'kind', 'queue',
    'score', 'outbound', 'offer_expires', 'priority', 'parked', 'dpart')
  if not f[1] then return nil end
  return {status = f[1], agent = f[2] or nil, offer_id = f[3] or nil, kind = f[4],
    queue = f[5], score = tonumber(f[6]), outbound = f[7] == '1',
    offer_expires = tonumber(f[8]), priority = tonumber(f[9]), parked = f[10] == '1',
    dpart = f[11] or nil}
end

local function set_away(agent, reason)
  set_status(agent, 'away', reason)
  for _, q in ipairs(agent_queues(agent)) do qa_remove_all(q, agent) end
  agent_event(agent, 'agent.status_changed', nil, {status = 'away', reason = reason})
end

-- Commands carry `seen` (their CloudEvents source and id): a replay changes nothing.
local function seen_before()
  if not A.seen then return false end
  return write('SET', key.seen_event('router', A.seen), '1', 'NX', 'EX', A.seen_ttl) == false
end
