-- An agent's command about one item. Anything that does not fit the state changes
-- nothing and answers the agent with command.rejected.
-- A: {cmd, command_id, agent, wid, offer_id?, reason?, disposition_code?, notes?}
local function refuse(reason)
  agent_event(A.agent, 'command.rejected', A.wid, {command_id = A.command_id,
    command_type = A.cmd, work_item_id = A.wid, reason = reason})
  return 'rejected:' .. reason
end

-- A skipped outbound item goes to the next available eligible agent, or else to the
-- back of its queue; after A.skip_limit skips it is parked for supervisors.
local function skip_onwards(wid, item, skips)
  write('ZREM', key.queue(item.queue, item.kind), wid)
  if skips >= A.skip_limit then
    write('ZADD', key.parked(item.queue), item.score, wid)
    write('HSET', key.router_item(wid), 'parked', '1')
    item_event(wid, 'workitem.queued', {queue = item.queue, priority = item.priority,
      reason = 'skip_limit'})
    route(agent_queues(A.agent))
    return 'parked'
  end
  local f = call('HMGET', key.router_item(wid), 'kind', 'skills')
  local other = pick_agent(wid, item.queue, f[1], cjson.decode(f[2]), false)
  if other then
    offer(wid, other)
    route(agent_queues(A.agent))
    return 'offered'
  end
  -- Nobody else can take it now: back of the queue, behind everything of its priority.
  local back = item.priority * 1e13 + NOW
  write('HSET', key.router_item(wid), 'score', string.format('%.0f', back))
  write('ZADD', key.queue(item.queue, item.kind), back, wid)
  item_event(wid, 'workitem.queued', {queue = item.queue, priority = item.priority,
    reason = 'skipped'})
  local queues = agent_queues(A.agent)
  table.insert(queues, item.queue)
  route(queues)
  return 'queued'
end

-- Answers to an offer: the item must be offered to this agent, under this offer, and
-- the answer must fit its direction (accept/reject inbound, dial/skip outbound).
local function offer_mismatch(item, outbound)
  if item.status ~= 'offered' or item.offer_id ~= A.offer_id then return 'offer_not_current' end
  if item.agent ~= A.agent then return 'offer_belongs_to_another_agent' end
  if item.outbound ~= outbound then
    return item.outbound and 'outbound_offer_needs_dial_or_skip'
      or 'inbound_offer_needs_accept_or_reject'
  end
  return nil
end

local function take_offer(item, ce_type)
  write('ZREM', deadlines_of(item.dpart), 'o|' .. item.offer_id .. '|' .. A.wid)
  write('HSET', key.router_item(A.wid), 'status', 'active')
  write('HDEL', key.router_item(A.wid), 'offer_expires')
  item_event(A.wid, ce_type, {offer_id = item.offer_id, agent_id = A.agent})
  return 'active'
end

-- Withdraw the offer the agent turned down; the data of its event.
local function turn_down(item)
  write('SADD', key.item_rejected_by(A.wid), A.agent)
  withdraw_offer(A.wid, item)
  local data = {offer_id = item.offer_id, agent_id = A.agent}
  if A.reason then data.reason = A.reason end
  return data
end

local function accept(item) return take_offer(item, 'workitem.accepted') end
local function dial(item) return take_offer(item, 'workitem.dialed') end

local function reject(item)
  item_event(A.wid, 'workitem.offer_rejected', turn_down(item))
  local queues = agent_queues(A.agent)
  table.insert(queues, item.queue)
  route(queues)
  return 'queued'
end

local function skip(item)
  local data = turn_down(item)
  data.skip_count = write('HINCRBY', key.router_item(A.wid), 'skips', 1)
  item_event(A.wid, 'workitem.skipped', data)
  return skip_onwards(A.wid, item, data.skip_count)
end

-- The commands about an item the agent holds; each checks the item's state itself.
local function hold(item)
  if item.status ~= 'active' then return refuse('item_not_active') end
  write('HSET', key.router_item(A.wid), 'status', 'hold')
  item_event(A.wid, 'workitem.held', {agent_id = A.agent})
  return 'hold'
end

local function resume(item)
  if item.status ~= 'hold' then return refuse('item_not_on_hold') end
  write('HSET', key.router_item(A.wid), 'status', 'active')
  item_event(A.wid, 'workitem.resumed', {agent_id = A.agent})
  return 'active'
end

local function end_item(item)
  if item.status ~= 'active' and item.status ~= 'hold' then
    return refuse('item_not_active')
  end
  local expires = NOW + WRAPUP_MS
  local part = agent_part(A.agent)
  write('HSET', key.router_item(A.wid), 'status', 'wrap_up', 'wrapup_expires', expires,
    'dpart', part)
  write('ZADD', deadlines_of(part), expires, 'w|' .. A.wid)
  item_event(A.wid, 'workitem.wrapup_started', {agent_id = A.agent, expires_at = iso(expires)})
  return 'wrap_up'
end

local function complete(item)
  if item.status ~= 'wrap_up' then return refuse('item_not_in_wrap_up') end
  close_item(A.wid, item, 'completed')
  local data = {agent_id = A.agent, disposition_code = A.disposition_code, auto = false}
  if A.notes then data.notes = A.notes end
  item_event(A.wid, 'workitem.completed', data)
  route(agent_queues(A.agent))
  return 'completed'
end

-- The dispatch tables: answers to an offer (with the direction they fit) and commands
-- about a held item.
local OFFER_ANSWERS = {
  ['offer.accept'] = {outbound = false, run = accept},
  ['offer.reject'] = {outbound = false, run = reject},
  ['outbound.dial'] = {outbound = true, run = dial},
  ['outbound.skip'] = {outbound = true, run = skip},
}
local HELD_ITEM_COMMANDS = {
  ['item.hold'] = hold,
  ['item.resume'] = resume,
  ['item.end'] = end_item,
  ['item.complete'] = complete,
}

if seen_before() then return 'duplicate' end
local item = load_item(A.wid)
if not item then return refuse('unknown_work_item') end
if item.status == 'completed' or item.status == 'cancelled' then
  return refuse('item_' .. item.status)
end
local answer = OFFER_ANSWERS[A.cmd]
if answer then
  local mismatch = offer_mismatch(item, answer.outbound)
  if mismatch then return refuse(mismatch) end
  return answer.run(item)
end
if item.agent ~= A.agent or item.status == 'queued' or item.status == 'offered' then
  return refuse('item_not_held_by_agent')
end
local run = HELD_ITEM_COMMANDS[A.cmd]
if not run then return refuse('unsupported_command') end
return run(item)
