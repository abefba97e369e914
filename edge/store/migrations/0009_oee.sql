CREATE TABLE `calendar_assignments` (
	`equipment_id` text PRIMARY KEY NOT NULL,
	`calendar_id` text NOT NULL,
	`event_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `downtime_classifications` (
	`event_seq` integer NOT NULL,
	`idx` integer NOT NULL,
	`work_center_id` text NOT NULL,
	`from_ms` integer NOT NULL,
	`to_ms` integer,
	`reason` text NOT NULL,
	PRIMARY KEY(`event_seq`, `idx`)
);
--> statement-breakpoint
CREATE INDEX `downtime_classifications_wc` ON `downtime_classifications` (`work_center_id`,`from_ms`);--> statement-breakpoint
CREATE TABLE `downtime_edits` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`work_center_id` text NOT NULL,
	`kind` text NOT NULL,
	`before` text NOT NULL,
	`after` text NOT NULL,
	`why` text,
	`actor` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `downtime_edits_wc` ON `downtime_edits` (`work_center_id`,`event_seq`);--> statement-breakpoint
CREATE TABLE `oee_buckets` (
	`work_center_id` text NOT NULL,
	`unit` integer NOT NULL,
	`start` integer NOT NULL,
	`ms` text NOT NULL,
	`stops` text NOT NULL,
	`counts` text NOT NULL,
	PRIMARY KEY(`work_center_id`, `unit`, `start`)
);
--> statement-breakpoint
CREATE TABLE `oee_counts` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`work_center_id` text NOT NULL,
	`at_ms` integer NOT NULL,
	`good` integer NOT NULL,
	`reject` integer NOT NULL,
	`ideal_cycle_time_s` real,
	`product_id` text,
	`order_id` text,
	`scrap_reason` text
);
--> statement-breakpoint
CREATE INDEX `oee_counts_wc` ON `oee_counts` (`work_center_id`,`at_ms`);--> statement-breakpoint
CREATE TABLE `oee_settings` (
	`work_center_id` text PRIMARY KEY NOT NULL,
	`micro_stop_threshold_ms` integer NOT NULL,
	`event_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `oee_state_changes` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`work_center_id` text NOT NULL,
	`at_ms` integer NOT NULL,
	`state` text NOT NULL,
	`reason` text
);
--> statement-breakpoint
CREATE INDEX `oee_state_changes_wc` ON `oee_state_changes` (`work_center_id`,`at_ms`,`event_seq`);--> statement-breakpoint
CREATE INDEX `oee_state_changes_running` ON `oee_state_changes` (`work_center_id`,`at_ms`,`event_seq`) WHERE state = 'running';--> statement-breakpoint
CREATE TABLE `reason_codes` (
	`position` integer PRIMARY KEY NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`parent` text,
	`loss` text NOT NULL,
	`planned` integer NOT NULL,
	`packml` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reason_codes_code` ON `reason_codes` (`code`);--> statement-breakpoint
CREATE TABLE `shift_calendars` (
	`id` text PRIMARY KEY NOT NULL,
	`time_zone` text NOT NULL,
	`definition` text NOT NULL
);
