"""Client webhooks per the Standard Webhooks specification: endpoints an account registers,
one delivery per (endpoint, event), signed, retried with back-off for a day."""
