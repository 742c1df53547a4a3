CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`limits` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`end_user` text DEFAULT '' NOT NULL,
	`external_id` text,
	`model` text NOT NULL,
	`system_prompt` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`busy_token` text,
	`busy_until` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `conversations_external` ON `conversations` (`key_id`,`end_user`,`external_id`);--> statement-breakpoint
CREATE INDEX `conversations_owner` ON `conversations` (`key_id`,`end_user`,`id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`seq` integer NOT NULL,
	`role` text NOT NULL,
	`content` text NOT NULL,
	`status` text,
	`end_user` text DEFAULT '' NOT NULL,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`worker_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_conversation_seq` ON `messages` (`conversation_id`,`seq`);--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`key_id` text NOT NULL,
	`end_user` text DEFAULT '' NOT NULL,
	`model` text NOT NULL,
	`day` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `end_user`, `model`, `day`)
);
