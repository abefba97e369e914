PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_oee_counts` (
	`event_seq` integer NOT NULL,
	`idx` integer DEFAULT 0 NOT NULL,
	`work_center_id` text NOT NULL,
	`at_ms` integer NOT NULL,
	`good` integer NOT NULL,
	`reject` integer NOT NULL,
	`ideal_cycle_time_s` real,
	`product_id` text,
	`order_id` text,
	`scrap_reason` text,
	PRIMARY KEY(`event_seq`, `idx`)
);
--> statement-breakpoint
INSERT INTO `__new_oee_counts`("event_seq", "idx", "work_center_id", "at_ms", "good", "reject", "ideal_cycle_time_s", "product_id", "order_id", "scrap_reason") SELECT "event_seq", 0, "work_center_id", "at_ms", "good", "reject", "ideal_cycle_time_s", "product_id", "order_id", "scrap_reason" FROM `oee_counts`;--> statement-breakpoint
DROP TABLE `oee_counts`;--> statement-breakpoint
ALTER TABLE `__new_oee_counts` RENAME TO `oee_counts`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `oee_counts_wc` ON `oee_counts` (`work_center_id`,`at_ms`);