"""People talking to the assistant: SMS, voice and Telegram webhooks, the terminal."""
