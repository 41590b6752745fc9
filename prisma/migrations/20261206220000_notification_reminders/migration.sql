-- Reminders (points.expiring, club.ending; docs/webhooks.md): each endpoint
-- says how many days ahead it wants them. A time step makes a reminder once
-- per (member, what is due, days): the index finds a member's earlier ones.
ALTER TABLE "webhook_endpoints" ADD COLUMN "reminder_days" SMALLINT NOT NULL DEFAULT 7;
CREATE INDEX "notifications_merchant_id_member_type_idx" ON "notifications" ("merchant_id", "member", "type");
