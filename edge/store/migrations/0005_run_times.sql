CREATE TABLE `run_times` (
	`order_id` text NOT NULL,
	`op_seq` integer NOT NULL,
	`actual_s` real NOT NULL,
	`quantity` real NOT NULL,
	PRIMARY KEY(`order_id`, `op_seq`)
);
