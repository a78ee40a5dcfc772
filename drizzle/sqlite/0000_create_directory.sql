CREATE TABLE `counters` (
	`tenant_id` text NOT NULL,
	`resource_type` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`tenant_id`, `resource_type`)
);
--> statement-breakpoint
CREATE TABLE `group_members` (
	`group_id` text NOT NULL,
	`member_id` text NOT NULL,
	`member_type` text NOT NULL,
	PRIMARY KEY(`group_id`, `member_id`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `group_members_member_id_idx` ON `group_members` (`member_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text DEFAULT 'default' NOT NULL,
	`display_name_key` text NOT NULL,
	`external_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created` text NOT NULL,
	`last_modified` text NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `groups_tenant_display_name_key_idx` ON `groups` (`tenant_id`,`display_name_key`);--> statement-breakpoint
CREATE INDEX `groups_tenant_external_id_idx` ON `groups` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `groups_tenant_created_idx` ON `groups` (`tenant_id`,`created`);--> statement-breakpoint
CREATE INDEX `groups_tenant_last_modified_idx` ON `groups` (`tenant_id`,`last_modified`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`created` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text DEFAULT 'default' NOT NULL,
	`user_name_key` text NOT NULL,
	`external_id` text,
	`display_name_key` text,
	`active` integer,
	`password_hash` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created` text NOT NULL,
	`last_modified` text NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_user_name_key_uq` ON `users` (`tenant_id`,`user_name_key`);--> statement-breakpoint
CREATE INDEX `users_tenant_external_id_idx` ON `users` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `users_tenant_display_name_key_idx` ON `users` (`tenant_id`,`display_name_key`);--> statement-breakpoint
CREATE INDEX `users_tenant_created_idx` ON `users` (`tenant_id`,`created`);--> statement-breakpoint
CREATE INDEX `users_tenant_last_modified_idx` ON `users` (`tenant_id`,`last_modified`);