CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`profile` text,
	`token_hash` text,
	`basic_user` text,
	`basic_password_hash` text,
	`rotated` text
);
