-- Money and points in 64-bit columns: an order total of 21,474,836.48 USD in
-- cents, or a sum of balances, no longer overflows. The API still refuses
-- amounts beyond its documented limits (docs/api.md, Limits).
ALTER TABLE "members" ALTER COLUMN "balance" TYPE BIGINT;
ALTER TABLE "orders" ALTER COLUMN "total" TYPE BIGINT;
ALTER TABLE "ledger_entries" ALTER COLUMN "points" TYPE BIGINT;
