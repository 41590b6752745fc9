-- A refused event that changed nothing and repeats one the log already holds
-- as refused (same member, time and body: a re-sent import, a retry with the
-- same `at`) is not logged again (members.ts, "Repeated refusals"). The write
-- looks for the logged one among the refused events only, which this index
-- holds: refused events are few, so it costs the accepted ones nothing.
CREATE INDEX "events_refused_idx" ON "events" ("merchant_id", "member", "at") WHERE NOT "accepted";
