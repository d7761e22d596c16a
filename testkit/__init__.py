"""Test doubles and helpers shared by the test suite and the benchmarks (never used by the bot).

``testkit.slack``: a fake Slack Web API on a loopback port; ``testkit.waiting``: waiting for a
condition; ``testkit.clock``: a clock whose sleeps return at once, for the notifier.
"""
