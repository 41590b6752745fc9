-- AlterTable: a sandbox merchant (for QA) may date writes in the future.
ALTER TABLE "merchants" ADD COLUMN "sandbox" BOOLEAN NOT NULL DEFAULT false;
