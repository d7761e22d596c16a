"""The process: settings, the app and its lifetimes, logs, metrics, Slack clients, Socket Mode."""
