"""The prober's pure rules: trunk health (`health`), call-start windows (`rate`),
requests voided by a pause (`pauses`),
a request started once per process (`once`)."""
