CREATE TABLE "principals" (
	"name" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"grants" json NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
