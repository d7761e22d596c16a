"""The SMS domain (sends, delivery tracking, account watches); it knows nothing of Slack."""
