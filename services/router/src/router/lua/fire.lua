-- Fire deadlines, each exactly once: whoever removes a member from the sorted set applies
-- its transition, in the same atomic step. A call may fire several members (it saves the
-- per-call cost); each is applied on its own, in the given order, as separate calls would.
-- A: {members = [...], part?, default_disposition}: the members of the set of partition
-- `part` of agent.commands (none: the single set); returns the outcomes, space-separated.

local function fire_offer(offer_id, wid)
  local item = load_item(wid)
  if not item or item.status ~= 'offered' or item.offer_id ~= offer_id then return 'stale' end
  local agent = item.agent
  withdraw_offer(wid, item)
  agent_event(agent, 'offer.revoked', wid, {offer_id = offer_id, work_item_id = wid,
    reason = 'expired'})
  item_event(wid, 'workitem.offer_expired', {offer_id = offer_id, agent_id = agent,
    expires_at = iso(item.offer_expires)})
  set_away(agent, 'missed_offer')
  route({item.queue})
  return 'offer_expired'
end

local function fire_wrapup(wid)
  local item = load_item(wid)
  if not item or item.status ~= 'wrap_up' then return 'stale' end
  item_event(wid, 'workitem.wrapup_expired', {agent_id = item.agent})
  close_item(wid, item, 'completed')
  item_event(wid, 'workitem.completed', {agent_id = item.agent,
    disposition_code = A.default_disposition, auto = true})
  route(agent_queues(item.agent))
  return 'wrapup_expired'
end

local function fire(member)
  if write('ZREM', deadlines_of(A.part), member) == 0 then return 'gone' end
  local kind, first, second = string.match(member, '^(%a)|([^|]+)|?(.*)$')
  if kind == 'o' then return fire_offer(first, second) end
  if kind == 'w' then return fire_wrapup(first) end
  return 'unknown_member'
end

local outcomes = {}
for i, member in ipairs(A.members) do outcomes[i] = fire(member) end
return table.concat(outcomes, ' ')
