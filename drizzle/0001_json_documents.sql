ALTER TABLE "agents" ALTER COLUMN "data" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "app_task_failures" ALTER COLUMN "data" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "app_versions" ALTER COLUMN "definition" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "apps" ALTER COLUMN "definition" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "deployments" ALTER COLUMN "data" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "payload" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "instances" ALTER COLUMN "data" SET DATA TYPE json;