ALTER TABLE `order_operations` ADD `order_state` text DEFAULT 'created' NOT NULL;--> statement-breakpoint
ALTER TABLE `order_operations` ADD `order_priority` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `order_operations` ADD `order_due_key` text DEFAULT '9999' NOT NULL;--> statement-breakpoint
CREATE INDEX `order_operations_dispatch` ON `order_operations` (`work_center_id`,`order_priority`,`order_due_key`,`seq`,`order_id`);