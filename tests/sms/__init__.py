"""Tests of the SMS domain: sends and delivery tracking."""
