"""Channels' records: calls from the telephony gateway, call tickets, notifications."""
