"""The gateway's adapters: the Mongo repository of accounts and HTTP clients of its peers."""
