-- workitem.created -> queued (and offered at once when an agent is free).
-- A: {wid, queue, priority, created_ms, kind, skills = [...], summary = "<json>", outbound}
local ikey = key.router_item(A.wid)
local held = call('TYPE', ikey).ok
if held == 'hash' then return 'duplicate' end
if held ~= 'none' then error('WRONGTYPE the item key holds a ' .. held) end
local score = A.priority * 1e13 + A.created_ms
write('HSET', ikey, 'status', 'queued', 'queue', A.queue, 'score', string.format('%.0f', score),
  'kind', A.kind, 'skills', cjson.encode(A.skills), 'summary', A.summary,
  'outbound', A.outbound and '1' or '0', 'priority', A.priority, 'skips', 0)
if CORRELATION ~= '' then write('HSET', ikey, 'corr', CORRELATION) end
ITEM_CORRELATION[A.wid] = CORRELATION ~= '' and CORRELATION or false
KNOWN_SKILLS[A.wid] = A.skills
write('ZADD', key.queue(A.queue, A.kind), score, A.wid)
local queued = {queue = A.queue, priority = A.priority}
if A.note then queued.reason = A.note end
item_event(A.wid, 'workitem.queued', queued)
-- Only this item's kind: nothing else changed, so nothing else became routable.
route({A.queue}, {A.kind})
return 'queued'
