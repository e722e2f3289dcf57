-- One transition of one callback (callback/store.py, CallbackStore.commit): if the
-- conditions it was decided under still hold, write the record, its deadlines, indexes,
-- campaign counters, retention and events.
--
-- A (named arguments; lists may be empty, everything else may be absent):
--   callback_id      the callback
--   version          the record's version the decision was made on ('' = no record yet)
--   partition        partition of its deadline set (absent: the single set)
--   seen             {event_key, ttl}: the event being applied ('duplicate' if it was)
--   claim            {member, partition?}: the deadline being fired, in the set of its
--                    partition (absent: the single set); 'gone' if no longer there
--   request          {key, answer, ttl}: an idempotent request, answered here
--                    ('conflict' if another delivery answered it first)
--   doc              the new record (JSON); absent: the record is unchanged
--   status           its status; open_statuses: the statuses that are open; with doc
--   phone            {queue, phone, guard?, claim, release}: the open callback of the
--                    number (guard: what the index must hold, '' = nothing); with doc
--   campaign_member  the campaign whose member set the new callback joins; with doc
--   retain           {ttl, items}: the callback is closed: its record and the item links
--                    of its work items expire after ttl seconds; with doc
--   add_deadlines    {{member, score}} into the partition's set
--   remove_deadlines {member}, from the partition's set and the single set
--   link_items       {work item id}: items that now lead to this callback
--   counters         {{campaign_id, field, delta}}
--   events           {{topic, Kafka key, CloudEvent JSON}}
-- Answers 'applied', 'duplicate', 'gone' or 'conflict', checked in that order.

local RECORD = key.callback(A.callback_id)

local function deadlines_of(partition)
  if partition == nil then return key.callback_deadlines() end
  return key.callback_deadlines_of(partition)
end

local function phone_key()
  return key.callback_open(A.phone.queue, A.phone.phone)
end

-- Guards (reads only).

local function seen_before()
  return A.seen ~= nil and call('EXISTS', key.seen_event('callback', A.seen.event_key)) == 1
end

local function claim_gone()
  return A.claim ~= nil and not call('ZSCORE', deadlines_of(A.claim.partition), A.claim.member)
end

-- The request must still be unanswered and the number's index still hold what it held.
local function indexes_moved()
  if A.request and (call('GET', key.callback_request(A.request.key)) or '') ~= '' then
    return true
  end
  return A.phone ~= nil and A.phone.guard ~= nil
    and (call('GET', phone_key()) or '') ~= A.phone.guard
end

-- Writes.

local function take_claim_and_seen()
  if A.claim then write('ZREM', deadlines_of(A.claim.partition), A.claim.member) end
  if A.seen then
    write('SET', key.seen_event('callback', A.seen.event_key), '1', 'EX', A.seen.ttl)
  end
end

-- The record, and the count of open callbacks per status (for the gauge): a closed
-- status is not counted, so the counts stay right when closed records expire.
local function write_record(version)
  if not A.doc then return end
  local was = call('HGET', RECORD, 'status')
  write('HSET', RECORD, 'doc', A.doc, 'version', tostring((tonumber(version) or 0) + 1),
    'status', A.status)
  if was == A.status then return end
  local open = {}
  for _, status in ipairs(A.open_statuses) do open[status] = true end
  if was and open[was] then write('HINCRBY', key.open_callbacks(), was, -1) end
  if open[A.status] then write('HINCRBY', key.open_callbacks(), A.status, 1) end
end

local function move_deadlines()
  local home = deadlines_of(A.partition)
  for _, d in ipairs(A.add_deadlines) do write('ZADD', home, d[2], d[1]) end
  -- from the single set too: deadlines written before the partitions were known
  local single = key.callback_deadlines()
  for _, member in ipairs(A.remove_deadlines) do
    write('ZREM', home, member)
    if single ~= home then write('ZREM', single, member) end
  end
end

local function set_indexes()
  if A.request then
    local at = key.callback_request(A.request.key)
    if A.request.ttl > 0 then write('SET', at, A.request.answer, 'EX', A.request.ttl)
    else write('SET', at, A.request.answer) end
  end
  if A.phone and A.phone.claim then write('SET', phone_key(), A.callback_id) end
  for _, wid in ipairs(A.link_items) do write('SET', key.callback_of_item(wid), A.callback_id) end
  -- closed: a new request for the number may create another callback
  if A.phone and A.phone.release and call('GET', phone_key()) == A.callback_id then
    write('DEL', phone_key())
  end
end

local function count_campaign()
  for _, c in ipairs(A.counters) do write('HINCRBY', key.campaign(c[1]), c[2], c[3]) end
  if A.campaign_member then
    write('SADD', key.campaign_callbacks(A.campaign_member), A.callback_id)
  end
end

-- After set_indexes: a SET clears a key's TTL.
local function retain_closed()
  if not A.retain then return end
  write('EXPIRE', RECORD, A.retain.ttl)
  for _, wid in ipairs(A.retain.items) do
    write('EXPIRE', key.callback_of_item(wid), A.retain.ttl)
  end
end

if seen_before() then return 'duplicate' end
if claim_gone() then return 'gone' end
local version = call('HGET', RECORD, 'version') or ''
if version ~= A.version or indexes_moved() then return 'conflict' end

take_claim_and_seen()
write_record(version)
move_deadlines()
set_indexes()
count_campaign()
retain_closed()
for _, e in ipairs(A.events) do outbox_add(key.outbox('callback'), e[1], e[2], e[3]) end
return 'applied'
