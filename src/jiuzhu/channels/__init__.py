"""Channels: the one-key call webhook (一键呼叫), notifications (SMS and in-app)."""
