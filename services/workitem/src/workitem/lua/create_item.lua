-- Creates a work item record and queues workitem.created, unless the request or the id
-- was seen before (see workitem/store.py).
--
-- Named arguments (A):
--   work_item_id   the item's id
--   fingerprint    digest of what was asked for: tells a retry from a different request
--   item           the item as JSON, stored as it is
--   now            ISO 8601 UTC time: created_at and updated_at
--   history_entry  the record's first history entry (JSON)
--   request_key    the request's idempotency key (absent: none), kept request_ttl seconds
--   request_ttl
--   topic, event   workitem.created (JSON) for the outbox (no event: nothing is queued,
--                  for an item another service created and announced)
--
-- Answers {outcome, work_item_id}: 'created'; 'duplicate' (the same request or item
-- again: its id); 'conflict' (the key or id was used for different content: the stored
-- item's id).

local id = A.work_item_id
local item = key.work_item(id)
local request = A.request_key and key.request('create', A.request_key)
if request then
  local prior = call('HMGET', request, 'work_item_id', 'fingerprint')
  if prior[1] then
    if prior[2] ~= A.fingerprint then return {'conflict', prior[1]} end
    return {'duplicate', prior[1]}
  end
end
local existing = call('HGET', item, 'fingerprint')
if existing then
  if existing ~= A.fingerprint then return {'conflict', id} end
  return {'duplicate', id}
end
write('HSET', item, 'item', A.item, 'status', 'created', 'fingerprint', A.fingerprint,
      'created_at', A.now, 'updated_at', A.now)
write('RPUSH', key.work_item_history(id), A.history_entry)
if request then
  write('HSET', request, 'work_item_id', id, 'fingerprint', A.fingerprint)
  write('EXPIRE', request, A.request_ttl)
end
if A.event then outbox_add(key.outbox('workitem'), A.topic, id, A.event) end
return {'created', id}
