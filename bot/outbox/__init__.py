"""Sending: the dispatcher, pacing, quiet hours, the channel providers, the scheduler."""
