CREATE TABLE "agent_credentials" (
	"agent_id" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"password_sha256" text NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "agent_join_tokens" (
	"token_sha256" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint,
	"agent_id" text
);
