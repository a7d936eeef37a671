CREATE TABLE "role_policies" (
	"role" text PRIMARY KEY NOT NULL,
	"quota" json,
	"weight" double precision
);
