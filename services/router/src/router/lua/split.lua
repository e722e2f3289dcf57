-- Start-up: the items and agents of a queue's single sets (as routers before per-kind sets
-- kept them) move into the sets of their kinds. Returns how many members moved.
-- A: {queue}
local old_items, old_agents = k('q', A.queue), k('qa', A.queue)
local items = call('ZRANGE', old_items, 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do
  local kind = call('HGET', k('ri', items[i]), 'kind') or 'async'
  write('ZADD', qkey(A.queue, kind), items[i + 1], items[i])
end
local agents = call('ZRANGE', old_agents, 0, -1, 'WITHSCORES')
for i = 1, #agents, 2 do
  local a = agent_state(agents[i])
  for _, kind in ipairs(KINDS) do
    if a.status == 'available' and a.used[kind] < a.cap[kind] then
      write('ZADD', qakey(A.queue, kind), agents[i + 1], agents[i])
    end
  end
end
write('DEL', old_items, old_agents)
return (#items + #agents) / 2
