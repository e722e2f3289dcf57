-- An agent's command about one item. Anything that does not fit the state changes
-- nothing and answers the agent with command.rejected.
-- A: {cmd, command_id, agent, wid, offer_id?, reason?, disposition_code?, notes?}
if seen_before() then return 'duplicate' end
local item = load_item(A.wid)

local function refuse(reason)
  agent_event(A.agent, 'command.rejected', A.wid, {command_id = A.command_id,
    command_type = A.cmd, work_item_id = A.wid, reason = reason})
  return 'rejected:' .. reason
end

local OFFER_COMMANDS = {['offer.accept'] = true, ['offer.reject'] = true,
  ['outbound.dial'] = true, ['outbound.skip'] = true}

-- A skipped outbound item goes to the next available eligible agent, or else to the
-- back of its queue; after A.skip_limit skips it is parked for supervisors.
local function skip_onwards(wid, item, skips)
  write('ZREM', qkey(item.queue, item.kind), wid)
  if skips >= A.skip_limit then
    write('ZADD', k('parked', item.queue), item.score, wid)
    write('HSET', k('ri', wid), 'parked', '1')
    item_event(wid, 'workitem.queued', {queue = item.queue, priority = item.priority,
      reason = 'skip_limit'})
    route(agent_queues(A.agent))
    return 'parked'
  end
  local f = call('HMGET', k('ri', wid), 'kind', 'skills')
  local other = pick_agent(wid, item.queue, f[1], cjson.decode(f[2]), false)
  if other then
    offer(wid, other)
    route(agent_queues(A.agent))
    return 'offered'
  end
  -- Nobody else can take it now: back of the queue, behind everything of its priority.
  local back = item.priority * 1e13 + NOW
  write('HSET', k('ri', wid), 'score', string.format('%.0f', back))
  write('ZADD', qkey(item.queue, item.kind), back, wid)
  item_event(wid, 'workitem.queued', {queue = item.queue, priority = item.priority,
    reason = 'skipped'})
  local queues = agent_queues(A.agent)
  table.insert(queues, item.queue)
  route(queues)
  return 'queued'
end

if not item then return refuse('unknown_work_item') end
if item.status == 'completed' or item.status == 'cancelled' then
  return refuse('item_' .. item.status)
end

if OFFER_COMMANDS[A.cmd] then
  if item.status ~= 'offered' or item.offer_id ~= A.offer_id then
    return refuse('offer_not_current')
  end
  if item.agent ~= A.agent then return refuse('offer_belongs_to_another_agent') end
  local dial_like = A.cmd == 'outbound.dial' or A.cmd == 'outbound.skip'
  if item.outbound ~= dial_like then
    return refuse(item.outbound and 'outbound_offer_needs_dial_or_skip'
      or 'inbound_offer_needs_accept_or_reject')
  end
  if A.cmd == 'offer.accept' or A.cmd == 'outbound.dial' then
    write('ZREM', deadlines_of(item.dpart), 'o|' .. item.offer_id .. '|' .. A.wid)
    write('HSET', k('ri', A.wid), 'status', 'active')
    write('HDEL', k('ri', A.wid), 'offer_expires')
    local ce_type = A.cmd == 'offer.accept' and 'workitem.accepted' or 'workitem.dialed'
    item_event(A.wid, ce_type, {offer_id = item.offer_id, agent_id = A.agent})
    return 'active'
  end
  write('SADD', k('ri', A.wid, 'rejected'), A.agent)
  withdraw_offer(A.wid, item)
  local data = {offer_id = item.offer_id, agent_id = A.agent}
  if A.reason then data.reason = A.reason end
  if A.cmd == 'outbound.skip' then
    data.skip_count = write('HINCRBY', k('ri', A.wid), 'skips', 1)
    item_event(A.wid, 'workitem.skipped', data)
    return skip_onwards(A.wid, item, data.skip_count)
  end
  item_event(A.wid, 'workitem.offer_rejected', data)
  local queues = agent_queues(A.agent)
  table.insert(queues, item.queue)
  route(queues)
  return 'queued'
end

if item.agent ~= A.agent or item.status == 'queued' or item.status == 'offered' then
  return refuse('item_not_held_by_agent')
end

if A.cmd == 'item.hold' then
  if item.status ~= 'active' then return refuse('item_not_active') end
  write('HSET', k('ri', A.wid), 'status', 'hold')
  item_event(A.wid, 'workitem.held', {agent_id = A.agent})
  return 'hold'
end
if A.cmd == 'item.resume' then
  if item.status ~= 'hold' then return refuse('item_not_on_hold') end
  write('HSET', k('ri', A.wid), 'status', 'active')
  item_event(A.wid, 'workitem.resumed', {agent_id = A.agent})
  return 'active'
end
if A.cmd == 'item.end' then
  if item.status ~= 'active' and item.status ~= 'hold' then
    return refuse('item_not_active')
  end
  local expires = NOW + WRAPUP_MS
  local part = agent_part(A.agent)
  write('HSET', k('ri', A.wid), 'status', 'wrap_up', 'wrapup_expires', expires, 'dpart', part)
  write('ZADD', deadlines_of(part), expires, 'w|' .. A.wid)
  item_event(A.wid, 'workitem.wrapup_started', {agent_id = A.agent, expires_at = iso(expires)})
  return 'wrap_up'
end
if A.cmd == 'item.complete' then
  if item.status ~= 'wrap_up' then return refuse('item_not_in_wrap_up') end
  close_item(A.wid, item, 'completed')
  local data = {agent_id = A.agent, disposition_code = A.disposition_code, auto = false}
  if A.notes then data.notes = A.notes end
  item_event(A.wid, 'workitem.completed', data)
  route(agent_queues(A.agent))
  return 'completed'
end
return refuse('unsupported_command')
