// Settings for every e2e test file: quiet logs; the broker address comes from the global setup.
process.env.LOG_LEVEL ??= 'warn';
process.env.LOG_FORMAT ??= 'json';
