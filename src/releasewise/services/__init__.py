"""Use cases: one function per thing a user does.

Every function takes the ``Runtime`` (database, clock, settings, mailer) and,
where a person acts, the ``Actor``; it checks permission, does its work in one
transaction, and appends to the audit log in that same transaction. Functions
return plain frozen dataclasses (views), never ORM objects, so callers cannot
accidentally lazy-load outside the transaction.
"""
