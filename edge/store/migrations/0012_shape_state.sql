CREATE TABLE `shape_state` (
	`shape` text PRIMARY KEY NOT NULL,
	`handle` text NOT NULL,
	`offset` text NOT NULL,
	`updated_at` text NOT NULL
);
