-- workitem.cancel_requested -> cancelled, from any open state.
-- A: {wid, reason?}
if seen_before() then return 'duplicate' end
local item = load_item(A.wid)
if not item then return 'unknown' end
if item.status == 'completed' or item.status == 'cancelled' then return 'closed' end
local data = {}
if A.reason then data.reason = A.reason end
if item.status == 'queued' then
  write('ZREM', key.queue(item.queue, item.kind), A.wid)
  write('ZREM', key.parked(item.queue), A.wid)
elseif item.status == 'offered' then
  write('ZREM', deadlines_of(item.dpart), 'o|' .. item.offer_id .. '|' .. A.wid)
  agent_event(item.agent, 'offer.revoked', A.wid, {offer_id = item.offer_id,
    work_item_id = A.wid, reason = 'cancelled'})
else
  agent_event(item.agent, 'item.cancelled', A.wid, {work_item_id = A.wid,
    reason = A.reason})
end
if item.agent then data.agent_id = item.agent end
close_item(A.wid, item, 'cancelled')
item_event(A.wid, 'workitem.cancelled', data)
if item.agent then route(agent_queues(item.agent)) end
return 'cancelled'
