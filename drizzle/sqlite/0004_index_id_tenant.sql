CREATE INDEX `groups_id_tenant_idx` ON `groups` (`id`,`tenant_id`);--> statement-breakpoint
CREATE INDEX `users_id_tenant_idx` ON `users` (`id`,`tenant_id`);