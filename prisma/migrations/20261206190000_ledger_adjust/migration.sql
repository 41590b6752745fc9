-- Staff corrections (dsl.md 4.12, adjustPoints): ledger entries of kind
-- `adjust`, with the reason given, who made them, and the client's
-- idempotency key with a hash of the request's body (a retry with the same
-- key and body returns the first result; another body is a conflict).
ALTER TYPE "LedgerKind" ADD VALUE 'adjust';

ALTER TABLE "ledger_entries" ADD COLUMN "reason" TEXT;
ALTER TABLE "ledger_entries" ADD COLUMN "actor" TEXT;
ALTER TABLE "ledger_entries" ADD COLUMN "idempotency_key" TEXT;
ALTER TABLE "ledger_entries" ADD COLUMN "body_hash" TEXT;

CREATE UNIQUE INDEX "ledger_entries_merchant_id_idempotency_key_key"
    ON "ledger_entries" ("merchant_id", "idempotency_key");
