CREATE TABLE "agent_drains" (
	"agent_id" text PRIMARY KEY NOT NULL,
	"since" text NOT NULL
);
