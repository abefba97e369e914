CREATE TABLE `erp_cursor` (
	`name` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `erp_documents` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`received_at` text NOT NULL,
	`principal` text NOT NULL,
	`bod_id` text,
	`family` text,
	`verb` text,
	`noun` text,
	`sha256` text NOT NULL,
	`bytes` integer NOT NULL,
	`outcome` text NOT NULL,
	`status` integer NOT NULL,
	`errors` text NOT NULL,
	`last_seq` integer NOT NULL,
	`confirmation` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `erp_documents_bod` ON `erp_documents` (`bod_id`);--> statement-breakpoint
CREATE TABLE `erp_orders` (
	`order_id` text PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`schedule_id` text,
	`segments` text NOT NULL,
	`document_id` integer NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `erp_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`order_id` text NOT NULL,
	`op_seq` integer,
	`event_seq` integer NOT NULL,
	`body` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL,
	`last_status` integer,
	`last_error` text,
	`created_at` text NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `erp_outbox_source` ON `erp_outbox` (`event_seq`,`kind`);--> statement-breakpoint
CREATE INDEX `erp_outbox_state` ON `erp_outbox` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `erp_sublots` (
	`sublot_id` text PRIMARY KEY NOT NULL,
	`lot_id` text NOT NULL
);
