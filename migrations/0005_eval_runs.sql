CREATE TABLE `eval_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`question_set` text NOT NULL,
	`question_count` integer NOT NULL,
	`mode` text NOT NULL,
	`judge_model` text NOT NULL,
	`results` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `eval_runs_created` ON `eval_runs` (`created_at`);