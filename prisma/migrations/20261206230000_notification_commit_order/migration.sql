-- The pull feed pages in commit order, not id order: ids are taken before
-- commit, so a write that commits late would be skipped by a reader that has
-- already seen a higher id. Each notification keeps the id of the
-- transaction that recorded it (`tx`); the feed returns only those whose
-- transaction is older than every one still in flight
-- (pg_snapshot_xmin), ordered by (tx, id), so nothing can appear behind its
-- cursor later. Rows recorded before this migration get 0: they come first,
-- in id order.
ALTER TABLE "notifications" ADD COLUMN "tx" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "notifications" ALTER COLUMN "tx" SET DEFAULT (pg_current_xact_id()::text)::bigint;
CREATE UNIQUE INDEX "notifications_merchant_id_tx_id_key" ON "notifications" ("merchant_id", "tx", "id");
