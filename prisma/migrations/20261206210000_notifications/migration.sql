-- Notifications on a transactional outbox (docs/webhooks.md): what a write
-- did to a member (points earned, a tier change, ...), written in the write's
-- own transaction, so a notification exists exactly when its write committed.
-- Webhook endpoints get one delivery row per (notification, endpoint), made
-- in that same transaction; the server's delivery worker sends them.

CREATE TABLE "notifications" (
    -- Grows in commit-ish order (one sequence for all merchants); the pull feed's cursor and each member's delivery order.
    "id"          BIGSERIAL PRIMARY KEY,
    "merchant_id" UUID NOT NULL,
    -- member.signed_up, points.earned, tier.changed, ... (docs/webhooks.md)
    "type"        TEXT NOT NULL,
    -- The merchant's member id.
    "member"      TEXT NOT NULL,
    -- When it happened in the program's time (the entry's or the event's `at`).
    "at"          TIMESTAMPTZ(3) NOT NULL,
    -- The payload's shape version: 1.
    "version"     SMALLINT NOT NULL DEFAULT 1,
    "payload"     JSONB NOT NULL,
    -- The event (or advanceTime tick) whose write produced it.
    "event_seq"   BIGINT,
    "created"     TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "notifications_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE
);
CREATE INDEX "notifications_merchant_id_id_idx" ON "notifications" ("merchant_id", "id");
CREATE INDEX "notifications_merchant_id_type_id_idx" ON "notifications" ("merchant_id", "type", "id");

CREATE TABLE "webhook_endpoints" (
    "id"          UUID PRIMARY KEY,
    "merchant_id" UUID NOT NULL,
    "url"         TEXT NOT NULL,
    -- The notification types it receives; empty = every type.
    "types"       TEXT[] NOT NULL DEFAULT '{}',
    -- Signs each delivery (HMAC-SHA256); shown to the merchant, so stored as is.
    "secret"      TEXT NOT NULL,
    "enabled"     BOOLEAN NOT NULL DEFAULT true,
    "created_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_endpoints_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE
);
CREATE INDEX "webhook_endpoints_merchant_id_idx" ON "webhook_endpoints" ("merchant_id");

CREATE TABLE "deliveries" (
    "id"               BIGSERIAL PRIMARY KEY,
    "merchant_id"      UUID NOT NULL,
    "notification_id"  BIGINT NOT NULL,
    "endpoint_id"      UUID NOT NULL,
    -- The notification's member, copied: deliveries to one endpoint go in order per member.
    "member"           TEXT NOT NULL,
    "status"           TEXT NOT NULL DEFAULT 'pending' CHECK ("status" IN ('pending', 'delivered', 'failed')),
    "attempts"         INTEGER NOT NULL DEFAULT 0,
    -- When the worker may (next) try it; a claimed delivery is leased by moving this ahead.
    "next_attempt_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_status_code" INTEGER,
    "last_error"       TEXT,
    "last_attempt_at"  TIMESTAMPTZ(3),
    "delivered_at"     TIMESTAMPTZ(3),
    "created_at"       TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "deliveries_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE,
    CONSTRAINT "deliveries_notification_id_fkey" FOREIGN KEY ("notification_id") REFERENCES "notifications"("id") ON DELETE CASCADE,
    CONSTRAINT "deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "deliveries_notification_id_endpoint_id_key" ON "deliveries" ("notification_id", "endpoint_id");
-- What the worker claims: pending deliveries by due time.
CREATE INDEX "deliveries_pending_due_idx" ON "deliveries" ("next_attempt_at") WHERE "status" = 'pending';
-- The in-order check: an earlier pending delivery of the member to the endpoint.
CREATE INDEX "deliveries_pending_member_idx" ON "deliveries" ("endpoint_id", "member", "notification_id") WHERE "status" = 'pending';
CREATE INDEX "deliveries_merchant_id_id_idx" ON "deliveries" ("merchant_id", "id");
