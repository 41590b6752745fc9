-- The event log: every write's event, as a replay.md line, in the order the
-- server applied it. It is the source of truth: member states, balances and
-- the ledger are what the engine derives from it (`npm run db:verify`).

CREATE TABLE "events" (
    -- Grows in the order events were applied (one sequence for all merchants:
    -- per merchant it only grows, with gaps).
    "seq"                BIGSERIAL PRIMARY KEY,
    "merchant_id"        UUID NOT NULL,
    "type"               TEXT NOT NULL,
    -- The merchant's member id (null for a tick).
    "member"             TEXT,
    "at"                 TIMESTAMPTZ(3) NOT NULL,
    -- The event exactly as a replay.md line.
    "line"               TEXT NOT NULL,
    -- The client's idempotency key, on accepted events only (a refused write may be retried with it).
    "key"                TEXT,
    -- sha256 of the canonical body (the line, less `at` when the server dated it).
    "body_hash"          TEXT NOT NULL,
    "program_version_id" UUID NOT NULL,
    "accepted"           BOOLEAN NOT NULL,
    "refusal_code"       TEXT,
    "refusal"            TEXT,
    "received_at"        TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "events_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE,
    CONSTRAINT "events_program_version_id_fkey" FOREIGN KEY ("program_version_id") REFERENCES "program_versions"("id")
);

CREATE UNIQUE INDEX "events_merchant_id_key_key" ON "events" ("merchant_id", "key");
CREATE INDEX "events_merchant_id_at_seq_idx" ON "events" ("merchant_id", "at", "seq");
CREATE INDEX "events_merchant_id_member_seq_idx" ON "events" ("merchant_id", "member", "seq");
CREATE INDEX "events_merchant_id_seq_idx" ON "events" ("merchant_id", "seq");

-- Append-only: the application never changes or removes an event. The one
-- exception is erasure of a member's personal data (GDPR), which sets
-- `loyalty.rewrite_events` for its transaction.
CREATE FUNCTION "events_append_only"() RETURNS trigger AS $$
BEGIN
    IF current_setting('loyalty.rewrite_events', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'the event log is append-only: % of an event is not allowed', TG_OP;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "events_append_only" BEFORE UPDATE OR DELETE ON "events"
    FOR EACH ROW EXECUTE FUNCTION "events_append_only"();

-- Which event wrote each ledger entry.
ALTER TABLE "ledger_entries" ADD COLUMN "event_seq" BIGINT;
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_event_seq_fkey" FOREIGN KEY ("event_seq") REFERENCES "events"("seq");
CREATE INDEX "ledger_entries_event_seq_idx" ON "ledger_entries" ("event_seq");

-- A version applies to the events after this sequence number (the log's last when it was published).
ALTER TABLE "program_versions" ADD COLUMN "from_seq" BIGINT NOT NULL DEFAULT 0;

-- adjustPoints keeps its idempotency key in the log, as every write does.
DROP INDEX "ledger_entries_merchant_id_idempotency_key_key";
ALTER TABLE "ledger_entries" DROP COLUMN "idempotency_key";
ALTER TABLE "ledger_entries" DROP COLUMN "body_hash";
