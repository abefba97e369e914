CREATE TABLE "central_consumptions" (
	"gateway_id" text NOT NULL,
	"event_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"line_id" text,
	"order_id" text NOT NULL,
	"op_seq" integer NOT NULL,
	"run_id" text NOT NULL,
	"produced_kind" text NOT NULL,
	"produced_id" text NOT NULL,
	"consumed_kind" text NOT NULL,
	"consumed_id" text NOT NULL,
	"material_id" text NOT NULL,
	"quantity" double precision NOT NULL,
	"at" text NOT NULL,
	CONSTRAINT "central_consumptions_gateway_id_event_id_pk" PRIMARY KEY("gateway_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "central_counts" (
	"gateway_id" text NOT NULL,
	"event_id" text NOT NULL,
	"idx" integer NOT NULL,
	"work_center_id" text NOT NULL,
	"at_ms" bigint NOT NULL,
	"good" double precision NOT NULL,
	"reject" double precision NOT NULL,
	"ideal_cycle_time_s" double precision,
	"product_id" text,
	"order_id" text,
	"scrap_reason" text,
	CONSTRAINT "central_counts_gateway_id_event_id_idx_pk" PRIMARY KEY("gateway_id","event_id","idx")
);
--> statement-breakpoint
CREATE TABLE "central_lots" (
	"gateway_id" text NOT NULL,
	"lot_id" text NOT NULL,
	"line_id" text,
	"order_id" text NOT NULL,
	"material_id" text NOT NULL,
	"quantity" double precision NOT NULL,
	CONSTRAINT "central_lots_gateway_id_lot_id_pk" PRIMARY KEY("gateway_id","lot_id")
);
--> statement-breakpoint
CREATE TABLE "central_oee_buckets" (
	"gateway_id" text NOT NULL,
	"work_center_id" text NOT NULL,
	"unit" bigint NOT NULL,
	"start" bigint NOT NULL,
	"ms" text NOT NULL,
	"stops" text NOT NULL,
	"counts" text NOT NULL,
	CONSTRAINT "central_oee_buckets_gateway_id_work_center_id_unit_start_pk" PRIMARY KEY("gateway_id","work_center_id","unit","start")
);
--> statement-breakpoint
CREATE TABLE "central_operations" (
	"gateway_id" text NOT NULL,
	"order_id" text NOT NULL,
	"op_seq" integer NOT NULL,
	"work_center_id" text NOT NULL,
	"product_id" text NOT NULL,
	"ideal_cycle_time_s" double precision,
	CONSTRAINT "central_operations_gateway_id_order_id_op_seq_pk" PRIMARY KEY("gateway_id","order_id","op_seq")
);
--> statement-breakpoint
CREATE TABLE "central_reason_codes" (
	"gateway_id" text PRIMARY KEY NOT NULL,
	"reasons" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "central_runs" (
	"gateway_id" text NOT NULL,
	"run_id" text NOT NULL,
	"order_id" text NOT NULL,
	"op_seq" integer NOT NULL,
	"work_center_id" text NOT NULL,
	"state" text DEFAULT 'running' NOT NULL,
	"machine_counted" boolean DEFAULT false NOT NULL,
	CONSTRAINT "central_runs_gateway_id_run_id_pk" PRIMARY KEY("gateway_id","run_id")
);
--> statement-breakpoint
CREATE TABLE "central_state_changes" (
	"gateway_id" text NOT NULL,
	"event_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"work_center_id" text NOT NULL,
	"at_ms" bigint NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	CONSTRAINT "central_state_changes_gateway_id_event_id_pk" PRIMARY KEY("gateway_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "central_units" (
	"gateway_id" text NOT NULL,
	"serial" text NOT NULL,
	"line_id" text,
	"order_id" text NOT NULL,
	"state" text NOT NULL,
	"held" boolean DEFAULT false NOT NULL,
	"hold_reason" text,
	"updated_seq" bigint NOT NULL,
	CONSTRAINT "central_units_gateway_id_serial_pk" PRIMARY KEY("gateway_id","serial")
);
--> statement-breakpoint
CREATE TABLE "central_work_centers" (
	"gateway_id" text NOT NULL,
	"work_center_id" text NOT NULL,
	"rated_cycle_time_s" double precision,
	"micro_stop_threshold_ms" bigint,
	"machine_reports" boolean DEFAULT false NOT NULL,
	CONSTRAINT "central_work_centers_gateway_id_work_center_id_pk" PRIMARY KEY("gateway_id","work_center_id")
);
--> statement-breakpoint
ALTER TABLE "central_consumptions" ADD CONSTRAINT "central_consumptions_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_counts" ADD CONSTRAINT "central_counts_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_lots" ADD CONSTRAINT "central_lots_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_oee_buckets" ADD CONSTRAINT "central_oee_buckets_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_operations" ADD CONSTRAINT "central_operations_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_reason_codes" ADD CONSTRAINT "central_reason_codes_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_runs" ADD CONSTRAINT "central_runs_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_state_changes" ADD CONSTRAINT "central_state_changes_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_units" ADD CONSTRAINT "central_units_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "central_work_centers" ADD CONSTRAINT "central_work_centers_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "central_consumptions_consumed" ON "central_consumptions" USING btree ("consumed_kind","consumed_id");--> statement-breakpoint
CREATE INDEX "central_consumptions_produced" ON "central_consumptions" USING btree ("produced_kind","produced_id");--> statement-breakpoint
CREATE INDEX "central_counts_time" ON "central_counts" USING btree ("gateway_id","work_center_id","at_ms");--> statement-breakpoint
CREATE INDEX "central_lots_lot" ON "central_lots" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "central_state_changes_time" ON "central_state_changes" USING btree ("gateway_id","work_center_id","at_ms");--> statement-breakpoint
CREATE INDEX "central_units_serial" ON "central_units" USING btree ("serial");