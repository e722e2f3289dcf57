-- agent.status: available / away / offline, with queues, skills and capacity.
-- A: {agent, status, reason?, queues = [...], skills = [...], capacity = {voice, chat, async}}
if seen_before() then return 'duplicate' end
local akey = key.agent(A.agent)
local was = call('HGET', akey, 'status')
for _, q in ipairs(agent_queues(A.agent)) do qa_remove_all(q, A.agent) end
write('DEL', key.agent_queues(A.agent), key.agent_skills(A.agent))
for _, q in ipairs(A.queues) do write('SADD', key.agent_queues(A.agent), q) end
for _, s in ipairs(A.skills) do write('SADD', key.agent_skills(A.agent), s) end
set_status(A.agent, A.status, A.reason)
write('HSET', akey, 'cap_voice', A.capacity.voice, 'cap_chat', A.capacity.chat,
  'cap_async', A.capacity.async)
-- its partition of agent.commands, where its deadlines live (see deadlines_of)
if A.part then write('HSET', akey, 'part', A.part) end
if A.status == 'available' then
  -- idle since now, unless it was available already (a repeated status keeps its place)
  if was ~= 'available' or not call('HGET', akey, 'last_offer') then
    write('HSET', akey, 'last_offer', NOW)
  end
  forget_agent(A.agent)  -- its capacity, partition and idle time were just written
  sync_agent(A.agent)
end
agent_event(A.agent, 'agent.status_changed', nil, {status = A.status, reason = A.reason})
local requeued = {}
if A.status == 'offline' then
  -- Pending offers go back to their queues; accepted items stay with the agent.
  for _, wid in ipairs(call('SMEMBERS', key.agent_items(A.agent))) do
    local item = load_item(wid)
    if item and item.status == 'offered' and item.agent == A.agent then
      withdraw_offer(wid, item)
      agent_event(A.agent, 'offer.revoked', wid, {offer_id = item.offer_id,
        work_item_id = wid, reason = 'agent_offline'})
      item_event(wid, 'workitem.offer_expired', {offer_id = item.offer_id, agent_id = A.agent,
        expires_at = iso(item.offer_expires), reason = 'agent_offline'})
      table.insert(requeued, item.queue)
    end
  end
end
if A.status == 'available' then
  route(A.queues)
elseif #requeued > 0 then
  route(requeued)
end
return A.status
