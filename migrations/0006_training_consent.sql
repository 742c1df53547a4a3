ALTER TABLE `api_keys` ADD `data_sharing` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `conversations` ADD `training_consent` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `conversations_consented` ON `conversations` (`training_consent`,`created_at`,`id`);