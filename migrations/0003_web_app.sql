CREATE TABLE `message_feedback` (
	`message_id` text NOT NULL,
	`end_user` text DEFAULT '' NOT NULL,
	`rating` text,
	`flagged` integer DEFAULT false NOT NULL,
	`comment` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `end_user`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `share_messages` (
	`share_id` text NOT NULL,
	`seq` integer NOT NULL,
	`role` text NOT NULL,
	`content` text NOT NULL,
	`status` text,
	PRIMARY KEY(`share_id`, `seq`),
	FOREIGN KEY (`share_id`) REFERENCES `shares`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `shares` (
	`id` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`model` text NOT NULL,
	`title` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `shares_conversation` ON `shares` (`conversation_id`);--> statement-breakpoint
CREATE TABLE `web_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `web_sessions_key` ON `web_sessions` (`key_id`);--> statement-breakpoint
CREATE INDEX `conversations_owner_created` ON `conversations` (`key_id`,`end_user`,`created_at`,`id`);