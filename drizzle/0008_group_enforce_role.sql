CREATE TABLE "groups" (
	"id" text PRIMARY KEY NOT NULL,
	"enforce_role" boolean NOT NULL
);
