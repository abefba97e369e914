CREATE TABLE "api_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"gateway_id" text NOT NULL,
	"epoch" integer NOT NULL,
	"seq" bigint NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"subject" text NOT NULL,
	"data" text NOT NULL,
	"actor" text NOT NULL,
	"occurred_at" text NOT NULL,
	"recorded_at" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "events_gateway_id_epoch_seq_pk" PRIMARY KEY("gateway_id","epoch","seq")
);
--> statement-breakpoint
CREATE TABLE "gateways" (
	"id" text PRIMARY KEY NOT NULL,
	"line_id" text,
	"token_hash" text NOT NULL,
	"epoch" integer DEFAULT 1 NOT NULL,
	"head_seq" bigint DEFAULT 0 NOT NULL,
	"head_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_push_at" timestamp with time zone,
	CONSTRAINT "gateways_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"gateway_id" text NOT NULL,
	"order_id" text NOT NULL,
	"line_id" text NOT NULL,
	"product_id" text NOT NULL,
	"state" text NOT NULL,
	"quantity" double precision NOT NULL,
	"good" double precision DEFAULT 0 NOT NULL,
	"scrap" double precision DEFAULT 0 NOT NULL,
	"updated_seq" bigint NOT NULL,
	"updated_at" text NOT NULL,
	CONSTRAINT "orders_gateway_id_order_id_pk" PRIMARY KEY("gateway_id","order_id")
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_type" ON "events" USING btree ("gateway_id","type");--> statement-breakpoint
CREATE INDEX "orders_line_state" ON "orders" USING btree ("line_id","state");