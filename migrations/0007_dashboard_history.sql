CREATE TABLE `metrics_minutes` (
	`minute_start` integer PRIMARY KEY NOT NULL,
	`totals` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_feedback_flagged` ON `message_feedback` (`flagged`,`updated_at`);