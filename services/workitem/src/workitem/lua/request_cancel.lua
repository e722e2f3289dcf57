-- Records that upstream asked to cancel an item and queues workitem.cancel_requested
-- (the router does the cancelling; see workitem/store.py).
--
-- Named arguments (A):
--   work_item_id   the item's id
--   request_key    the request's idempotency key, kept request_ttl seconds
--   request_ttl
--   now            ISO 8601 UTC time: cancel_requested_at and updated_at
--   history_entry  the history entry to append (JSON)
--   topic, event   workitem.cancel_requested (JSON) for the outbox
--
-- Answers 'requested'; 'duplicate' (the request was seen before); 'unknown' (no such
-- item); 'closed' (the item is completed, archived or cancelled already: nothing more).

local id = A.work_item_id
local request = key.request('cancel', A.request_key)
local item = key.work_item(id)
if call('EXISTS', request) == 1 then return 'duplicate' end
local status = call('HGET', item, 'status')
if not status then return 'unknown' end
write('SET', request, '1', 'EX', A.request_ttl)
if status == 'completed' or status == 'cancelled' or status == 'archived' then
  return 'closed'
end
write('HSET', item, 'cancel_requested_at', A.now, 'updated_at', A.now)
write('RPUSH', key.work_item_history(id), A.history_entry)
outbox_add(key.outbox('workitem'), A.topic, id, A.event)
return 'requested'
