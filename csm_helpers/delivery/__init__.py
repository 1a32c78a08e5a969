"""csm send: e-mail the reports."""
