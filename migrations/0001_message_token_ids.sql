-- Each message's token ids as its prompt piece encodes them (workers/prompt/stored-tokens.ts), so a
-- turn tokenizes only what has none: token_key says exactly what the ids encode, token_ids holds
-- them packed little-endian. Null until a turn has tokenized the message.
ALTER TABLE `messages` ADD `token_key` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `token_ids` blob;
