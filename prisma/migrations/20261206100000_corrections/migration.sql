-- Corrections (issue 7): a merchant's note on a member, the time of an
-- erasure, and the audit log of admin actions.

-- AlterTable
ALTER TABLE "members" ADD COLUMN "note" TEXT,
ADD COLUMN "erased_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "merchant_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_key_id" UUID,
    "actor_label" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_log_merchant_id_id_idx" ON "audit_log"("merchant_id", "id");

-- CreateIndex
CREATE INDEX "audit_log_merchant_id_action_id_idx" ON "audit_log"("merchant_id", "action", "id");

-- CreateIndex
CREATE INDEX "audit_log_merchant_id_target_id_idx" ON "audit_log"("merchant_id", "target", "id");

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
