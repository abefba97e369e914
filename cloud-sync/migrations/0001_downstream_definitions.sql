CREATE TABLE "cloud_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "definition_changes" (
	"offset" bigserial PRIMARY KEY NOT NULL,
	"line_id" text NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"operation" text NOT NULL,
	"body" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "line_definitions" (
	"line_id" text NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"body" text NOT NULL,
	"change_offset" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "line_definitions_line_id_kind_key_pk" PRIMARY KEY("line_id","kind","key")
);
--> statement-breakpoint
CREATE INDEX "definition_changes_line" ON "definition_changes" USING btree ("line_id","offset");