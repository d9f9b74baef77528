"""Delivery channels: e-mail (aiosmtplib), SMS (twilio), the outbox folder, and the message templates.

This package is the edge where alerts leave the system. Importing it connects to nothing; each module is
imported on its own (`subscribers.email`, `subscribers.sms`, ...) so the core never pulls in a provider
library it does not use.
"""
