-- Fire one deadline, exactly once: whoever removes the member from the sorted set
-- applies the transition, in the same atomic step.
-- A: {member, default_disposition}
if redis.call('ZREM', DEADLINES, A.member) == 0 then return 'gone' end
local kind, first, second = string.match(A.member, '^(%a)|([^|]+)|?(.*)$')
if kind == 'o' then
  local offer_id, wid = first, second
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
if kind == 'w' then
  local wid = first
  local item = load_item(wid)
  if not item or item.status ~= 'wrap_up' then return 'stale' end
  item_event(wid, 'workitem.wrapup_expired', {agent_id = item.agent})
  close_item(wid, item, 'completed')
  item_event(wid, 'workitem.completed', {agent_id = item.agent,
    disposition_code = A.default_disposition, auto = true})
  route(agent_queues(item.agent))
  return 'wrapup_expired'
end
return 'unknown_member'
