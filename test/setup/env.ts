// Settings for every e2e test file: quiet logs; the broker address comes from the global setup.
process.env.LOG_LEVEL ??= 'warn';
process.env.LOG_FORMAT ??= 'json';
// Test apps do not join the feedback consumer group unless a test asks for it (group rebalances would
// slow every other file's start and stop); the feedback tests set it to true.
process.env.FEEDBACK_CONSUMER_ENABLED ??= 'false';
