CREATE TABLE `arena_battles` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`end_user` text DEFAULT '' NOT NULL,
	`conversation_a` text NOT NULL,
	`conversation_b` text NOT NULL,
	`model_a` text NOT NULL,
	`model_b` text NOT NULL,
	`anonymous` integer NOT NULL,
	`status` text NOT NULL,
	`turns` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `arena_battles_owner` ON `arena_battles` (`key_id`,`end_user`,`created_at`);--> statement-breakpoint
CREATE TABLE `arena_leaderboard` (
	`id` integer PRIMARY KEY NOT NULL,
	`computed_at` integer NOT NULL,
	`body` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `arena_votes` (
	`battle_id` text PRIMARY KEY NOT NULL,
	`model_a` text NOT NULL,
	`model_b` text NOT NULL,
	`winner` text NOT NULL,
	`turns` integer NOT NULL,
	`voter_hash` text NOT NULL,
	`anonymous` integer NOT NULL,
	`identity_leaked` integer NOT NULL,
	`voted_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `arena_votes_voted_at` ON `arena_votes` (`voted_at`);--> statement-breakpoint
ALTER TABLE `conversations` ADD `arena_sealed` integer DEFAULT false NOT NULL;