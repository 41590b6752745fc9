-- DropIndex
DROP INDEX "members_merchant_id_tier_external_id_idx";

-- DropIndex
DROP INDEX "orders_member_id_at_idx";

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "record" JSONB;

-- CreateIndex
CREATE INDEX "members_merchant_id_signup_at_id_idx" ON "members"("merchant_id", "signup_at", "id");

-- CreateIndex
CREATE INDEX "members_merchant_id_tier_signup_at_id_idx" ON "members"("merchant_id", "tier", "signup_at", "id");

-- CreateIndex
CREATE INDEX "orders_member_id_at_id_idx" ON "orders"("member_id", "at", "id");

