"""The staff inbox (sign-in, escalations, conversations, patients, audit, admin pages)."""
