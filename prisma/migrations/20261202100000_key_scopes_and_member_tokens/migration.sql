-- CreateEnum
CREATE TYPE "ApiKeyScope" AS ENUM ('admin', 'write', 'read');

-- AlterTable: keys made before scopes could do everything, so they become admin
-- keys; the default exists only to fill them, new keys always name their scope.
ALTER TABLE "api_keys" ADD COLUMN     "scope" "ApiKeyScope" NOT NULL DEFAULT 'admin',
ADD COLUMN     "last_used_at" TIMESTAMPTZ(3);
ALTER TABLE "api_keys" ALTER COLUMN "scope" DROP DEFAULT;

-- CreateTable
CREATE TABLE "member_token_secrets" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "member_token_secrets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "member_token_generations" (
    "merchant_id" UUID NOT NULL,
    "member_id" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "member_token_generations_pkey" PRIMARY KEY ("merchant_id","member_id")
);

-- CreateIndex
CREATE INDEX "member_token_secrets_merchant_id_retired_at_idx" ON "member_token_secrets"("merchant_id", "retired_at");

-- AddForeignKey
ALTER TABLE "member_token_secrets" ADD CONSTRAINT "member_token_secrets_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "member_token_generations" ADD CONSTRAINT "member_token_generations_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
