-- Hands one request of the desktop on to Kafka through the outbox, once per
-- Idempotency-Key (see desktop/handoff.py).
--
-- Named arguments (A):
--   caller           the token's sub: whose Idempotency-Key it is
--   idempotency_key  the request's Idempotency-Key (absent: none, nothing remembered)
--   request_ttl      seconds the key is remembered
--   fingerprint      digest of what was asked for: tells a retry from another request
--   id               the id the request answers (command_id, work_item_id, callback_id)
--   topic            the Kafka topic of the event
--   kafka_key        its Kafka key (agent id, work item id, callback id)
--   type             its CloudEvents type (the relay's sb-type header)
--   event            the CloudEvent JSON
--
-- Answers {outcome, id}: 'accepted' (queued; A.id), 'duplicate' (a retry of a request
-- already queued: the id answered then; nothing is queued), 'conflict' (the key was used
-- for another request: its id; nothing is queued).

local request = A.idempotency_key and key.request('desktop', A.caller .. ':' .. A.idempotency_key)
if request then
  local prior = call('HMGET', request, 'id', 'fingerprint')
  if prior[1] then
    if prior[2] ~= A.fingerprint then return {'conflict', prior[1]} end
    return {'duplicate', prior[1]}
  end
  write('HSET', request, 'id', A.id, 'fingerprint', A.fingerprint)
  write('EXPIRE', request, A.request_ttl)
end
outbox_add(key.outbox('desktop'), A.topic, A.kafka_key, A.event, A.type)
return {'accepted', A.id}
