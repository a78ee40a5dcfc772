CREATE TABLE `history` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`time` text NOT NULL,
	`op` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`request_id` text,
	`principal` text,
	`before` text,
	`after` text,
	`changed` text,
	`members` text
);
--> statement-breakpoint
CREATE INDEX `history_tenant_resource_idx` ON `history` (`tenant_id`,`resource_id`,`seq`);--> statement-breakpoint
CREATE INDEX `history_tenant_time_idx` ON `history` (`tenant_id`,`time`);--> statement-breakpoint
CREATE INDEX `history_time_idx` ON `history` (`time`);