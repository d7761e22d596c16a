"""The console: an in-process fake Slack in a terminal, modals as prompts, Block Kit as text."""
