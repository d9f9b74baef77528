"""The auditors' views of the record: a person's timeline, subscriptions at a time, exports."""
