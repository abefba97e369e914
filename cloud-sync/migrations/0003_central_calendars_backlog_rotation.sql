CREATE TABLE "central_calendar_assignments" (
	"gateway_id" text NOT NULL,
	"equipment_id" text NOT NULL,
	"calendar_id" text NOT NULL,
	CONSTRAINT "central_calendar_assignments_gateway_id_equipment_id_pk" PRIMARY KEY("gateway_id","equipment_id")
);
--> statement-breakpoint
CREATE TABLE "central_calendars" (
	"gateway_id" text NOT NULL,
	"calendar_id" text NOT NULL,
	"calendar" text NOT NULL,
	CONSTRAINT "central_calendars_gateway_id_calendar_id_pk" PRIMARY KEY("gateway_id","calendar_id")
);
--> statement-breakpoint
CREATE TABLE "central_classifications" (
	"gateway_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"idx" integer NOT NULL,
	"work_center_id" text NOT NULL,
	"from_ms" bigint NOT NULL,
	"to_ms" bigint,
	"reason" text NOT NULL,
	CONSTRAINT "central_classifications_gateway_id_seq_idx_pk" PRIMARY KEY("gateway_id","seq","idx")
);
--> statement-breakpoint
ALTER TABLE "central_work_centers" ADD COLUMN "parent_id" text;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "previous_token_hash" text;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "previous_token_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "token_rotated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "reported_head_seq" bigint;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "reported_head_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "central_calendar_assignments" ADD CONSTRAINT "central_calendar_assignments_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_calendars" ADD CONSTRAINT "central_calendars_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_classifications" ADD CONSTRAINT "central_classifications_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "central_classifications_time" ON "central_classifications" USING btree ("gateway_id","work_center_id","from_ms");--> statement-breakpoint
ALTER TABLE "gateways" ADD CONSTRAINT "gateways_previous_token_hash_unique" UNIQUE("previous_token_hash");