CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` text NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `boms` (
	`id` text NOT NULL,
	`version` text NOT NULL,
	`product_id` text NOT NULL,
	`items` text NOT NULL,
	PRIMARY KEY(`id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `consumptions` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`order_id` text NOT NULL,
	`op_seq` integer NOT NULL,
	`produced_kind` text NOT NULL,
	`produced_id` text NOT NULL,
	`consumed_kind` text NOT NULL,
	`consumed_id` text NOT NULL,
	`material_id` text NOT NULL,
	`quantity` real NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `consumptions_produced` ON `consumptions` (`produced_kind`,`produced_id`);--> statement-breakpoint
CREATE INDEX `consumptions_consumed` ON `consumptions` (`consumed_kind`,`consumed_id`);--> statement-breakpoint
CREATE INDEX `consumptions_run` ON `consumptions` (`run_id`);--> statement-breakpoint
CREATE TABLE `credentials` (
	`person_id` text PRIMARY KEY NOT NULL,
	`password_hash` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dispatch_ranks` (
	`work_center_id` text NOT NULL,
	`order_id` text NOT NULL,
	`rank` integer NOT NULL,
	PRIMARY KEY(`work_center_id`, `order_id`)
);
--> statement-breakpoint
CREATE TABLE `equipment` (
	`id` text PRIMARY KEY NOT NULL,
	`level` text NOT NULL,
	`name` text NOT NULL,
	`parent_id` text,
	`rated_cycle_time_s` real
);
--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`subject` text NOT NULL,
	`data` text NOT NULL,
	`actor` text NOT NULL,
	`occurred_at` text NOT NULL,
	`recorded_at` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_id` ON `events` (`id`);--> statement-breakpoint
CREATE INDEX `events_subject` ON `events` (`subject`,`seq`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`principal` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer NOT NULL,
	`body` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `lots` (
	`id` text PRIMARY KEY NOT NULL,
	`material_id` text NOT NULL,
	`status` text NOT NULL,
	`expires_at` text,
	`quantity` real NOT NULL,
	`produced_by_order` text
);
--> statement-breakpoint
CREATE TABLE `materials` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`uom` text NOT NULL,
	`serialized` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `measurements` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`order_id` text NOT NULL,
	`op_seq` integer NOT NULL,
	`unit_serial` text,
	`name` text NOT NULL,
	`value` real NOT NULL,
	`unit` text NOT NULL,
	`lower` real,
	`upper` real,
	`within_limits` integer NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `measurements_run` ON `measurements` (`run_id`);--> statement-breakpoint
CREATE INDEX `measurements_unit` ON `measurements` (`unit_serial`);--> statement-breakpoint
CREATE TABLE `nonconformances` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`op_seq` integer NOT NULL,
	`unit_serial` text,
	`run_id` text NOT NULL,
	`reason` text NOT NULL,
	`state` text NOT NULL,
	`opened_at` text NOT NULL,
	`opened_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `order_operations` (
	`order_id` text NOT NULL,
	`seq` integer NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`work_center_id` text NOT NULL,
	`definition` text NOT NULL,
	`state` text NOT NULL,
	`qty_started` real NOT NULL,
	`qty_good` real NOT NULL,
	`qty_scrap` real NOT NULL,
	`started_at` text,
	`completed_at` text,
	PRIMARY KEY(`order_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `order_operations_wc` ON `order_operations` (`work_center_id`,`state`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`quantity` real NOT NULL,
	`serialized` integer NOT NULL,
	`serials` text NOT NULL,
	`bom_id` text NOT NULL,
	`bom_version` text NOT NULL,
	`routing_id` text NOT NULL,
	`routing_version` text NOT NULL,
	`line_id` text NOT NULL,
	`priority` integer NOT NULL,
	`due_at` text,
	`planned_start_at` text,
	`state` text NOT NULL,
	`held_from` text,
	`output_lot` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `orders_state` ON `orders` (`state`);--> statement-breakpoint
CREATE TABLE `people` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`roles` text NOT NULL,
	`qualifications` text NOT NULL,
	`active` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `refusals` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`order_id` text NOT NULL,
	`op_seq` integer NOT NULL,
	`lot_id` text NOT NULL,
	`quantity` real NOT NULL,
	`code` text NOT NULL,
	`reason` text NOT NULL,
	`actor` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `routings` (
	`id` text NOT NULL,
	`version` text NOT NULL,
	`product_id` text NOT NULL,
	`operations` text NOT NULL,
	PRIMARY KEY(`id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`op_seq` integer NOT NULL,
	`unit_serial` text,
	`quantity` real NOT NULL,
	`work_center_id` text NOT NULL,
	`operator_id` text NOT NULL,
	`state` text NOT NULL,
	`started_at` text NOT NULL,
	`ended_at` text,
	`good` real NOT NULL,
	`scrap` real NOT NULL,
	`scrap_reasons` text NOT NULL,
	`start_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runs_order_op_unit` ON `runs` (`order_id`,`op_seq`,`unit_serial`);--> statement-breakpoint
CREATE INDEX `runs_wc_state` ON `runs` (`work_center_id`,`state`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`person_id` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `units` (
	`serial` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`state` text NOT NULL,
	`held` integer NOT NULL,
	`hold_reason` text
);
--> statement-breakpoint
CREATE INDEX `units_order` ON `units` (`order_id`);