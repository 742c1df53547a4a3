-- Usage of stateless completions is buffered in each key's limiter Durable Object and written
-- here in batches. Each batch is applied at most once: its id is recorded in the same transaction
-- as its counts, and a batch whose id is already here adds nothing (a retry after a lost answer).
CREATE TABLE `usage_flushes` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`flushed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_flushes_flushed_at` ON `usage_flushes` (`flushed_at`);