-- 21 CFR Part 11: password history, lockout and forced change, registered terminals, signing state of a session, nonconformance dispositions.
CREATE TABLE `password_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`person_id` text NOT NULL,
	`password_hash` text NOT NULL,
	`set_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `password_history_person` ON `password_history` (`person_id`,`id`);--> statement-breakpoint
CREATE TABLE `terminals` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`location` text NOT NULL,
	`active` integer NOT NULL,
	`registered_at` text NOT NULL,
	`registered_by` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `credentials` ADD `failed_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `credentials` ADD `locked_until` text;--> statement-breakpoint
ALTER TABLE `credentials` ADD `change_required` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `nonconformances` ADD `disposition` text;--> statement-breakpoint
ALTER TABLE `nonconformances` ADD `dispositioned_at` text;--> statement-breakpoint
ALTER TABLE `nonconformances` ADD `dispositioned_by` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `method` text DEFAULT 'password' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `first_signed_at` text;