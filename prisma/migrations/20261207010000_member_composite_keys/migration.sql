-- An order and a ledger entry name their member by (merchant_id, member_id):
-- one composite foreign key to members (merchant_id, id) instead of two, one
-- to merchants and one to members. Integrity is kept and made stronger: the
-- row's member exists and belongs to the row's merchant (before, a row could
-- have named another merchant's member), and the merchant exists because
-- the member's own foreign key (members_merchant_id_fkey) says so. Deleting
-- a merchant still removes its orders and entries, through its members.
-- Why: an import batch inserts thousands of these rows in one statement and
-- PostgreSQL checks each foreign key row by row (one lookup per row and
-- key); the merchant check was a quarter of ledger_entries' checks
-- (bench/README.md, "Import").
CREATE UNIQUE INDEX "members_merchant_id_id_key" ON "members" ("merchant_id", "id");

ALTER TABLE "orders" DROP CONSTRAINT "orders_merchant_id_fkey";
ALTER TABLE "orders" DROP CONSTRAINT "orders_member_id_fkey";
ALTER TABLE "orders" ADD CONSTRAINT "orders_merchant_id_member_id_fkey"
    FOREIGN KEY ("merchant_id", "member_id") REFERENCES "members" ("merchant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_merchant_id_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_member_id_fkey";
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_merchant_id_member_id_fkey"
    FOREIGN KEY ("merchant_id", "member_id") REFERENCES "members" ("merchant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
