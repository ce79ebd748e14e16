"""What the prober talks to: the trunks over SIP (`sip`), their early media (`media`),
the pauses on `batch.events` (`pauses`), the signalling sender (`sender`)."""
