CREATE TABLE `machine_counts` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`work_center_id` text NOT NULL,
	`run_id` text,
	`order_id` text,
	`good` real NOT NULL,
	`reject` real NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `machine_counts_wc` ON `machine_counts` (`work_center_id`,`at`);--> statement-breakpoint
CREATE INDEX `machine_counts_run` ON `machine_counts` (`run_id`);--> statement-breakpoint
CREATE TABLE `machine_state_log` (
	`event_seq` integer PRIMARY KEY NOT NULL,
	`work_center_id` text NOT NULL,
	`state` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `machine_state_log_wc` ON `machine_state_log` (`work_center_id`,`at`);--> statement-breakpoint
CREATE TABLE `work_center_states` (
	`work_center_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`since` text NOT NULL,
	`source` text NOT NULL
);
