"""Alerts: channels, rules, escalation, delivery and claims.

Modules by concern: `secrets` (encrypting and masking channel targets, clean logs),
`channels` (checking and sending to a channel), `recipients` (who a rule reaches now),
`delivery` (notification rows, sending under a lease, retries), `evaluate` (rules by beat
and by the sync's store step), `escalation`, `claims`, `selectors` (what pages read).
This package imports no models at import time, so settings can name its log filter.
"""
